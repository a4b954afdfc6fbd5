"""A sentence that names a choice is data (`ecs_detach.wording`): the CLI's words give the text the core
has always carried, another face's words give its own, and a value put in (an id, a path) stays as typed."""

from __future__ import annotations

import pytest

from ecs_detach.wording import CLI_WORDS, Choice, worded

FACE = {choice: f"<{choice.value}>" for choice in Choice}


def test_the_cli_words_a_remedy_as_before_and_another_face_its_own_way() -> None:
    said = worded("Check it again ({check_again}) and run the detach with {unmount}.", disk_id="d-1")
    assert said.say(CLI_WORDS) == "Check it again (ecs-detach check d-1) and run the detach with --unmount."
    assert said.say(FACE) == "Check it again (<check_again>) and run the detach with <unmount>."
    assert said.choices == (Choice.CHECK_AGAIN, Choice.UNMOUNT)


def test_a_value_is_plain_text_even_with_braces_and_a_prefix_stays_plain() -> None:
    said = worded("Unmount {what} first ({unmount}).", what="/mnt/{unmount}")
    assert said.say(CLI_WORDS) == "Unmount /mnt/{unmount} first (--unmount)."
    assert said.after("Row 23: {x}").say(FACE) == "Row 23: {x}Unmount /mnt/{unmount} first (<unmount>)."


def test_a_place_that_is_neither_a_choice_nor_a_value_is_an_error_naming_it() -> None:
    with pytest.raises(KeyError, match="unmout"):
        worded("Use {unmout}.")


def test_a_choice_made_for_an_instance_names_it_in_each_face() -> None:
    said = worded("Put it back: {back}.", disk_id="d-1", back=(Choice.PUT_BACK, "i-1"))
    assert said.say(CLI_WORDS) == "Put it back: ecs-detach attach d-1 --instance i-1."
    assert said.choices == (Choice.PUT_BACK,)
