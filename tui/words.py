"""How the TUI names each choice a core sentence asks for (``ecs_detach.wording``): its keys and boxes, where
the command line names a flag. Nothing here knows Textual; the screens, the checklist and the error
notifications (``tui.formatting.error_text``) say the core's sentences with these."""

from __future__ import annotations

from ecs_detach.wording import Choice, Words

__all__ = ["BULK_WORDS", "MOVE_WORDS", "TUI_WORDS"]

# The wizard's controls, the app's keys.
TUI_WORDS: Words = {
    Choice.UNMOUNT: "the “Unmount it in the guest” option",
    Choice.STOP_INSTANCE: "the “Stop the instance” option, or s",
    Choice.SKIP_GUEST_CHECK: "a choice only the command line offers: the TUI always reads the guest",
    Choice.CHECK_AGAIN: "c on the disk",
    Choice.UNDO_AGAIN: (
        "press u on the disk again, which is safe (it reads the guest first and mounts it back only if it is "
        "still owed), or "
    ),
    Choice.STOP_TARGET: "the move's “Stop the target instance” option",
    Choice.BOOTABLE: "the move's “Boot the target from it” option",
    Choice.SNAPSHOT: "the “Snapshot first” option",
    Choice.ATTACH: "m on the disk, then {instance}",
    Choice.PUT_BACK: "u on the disk (it attaches it back to {instance})",
    Choice.ATTACH_ANEW: (
        "the TUI attaches only a disk it detached, so attach it to {instance} in the ECS console or from "
        "the command line"
    ),
    # The session's settings: picked in the app (g, P) or, for the endpoint, when the TUI starts.
    Choice.REGION: "the region picker, g",
    Choice.REAL_REGION: "pick one with the region picker, g",
    Choice.PROFILE: "the profile picker, P",
    Choice.ENDPOINT: "shown at the top of the screen; it is set when the TUI starts",
    Choice.CHECK_ENDPOINT: "check the endpoint shown at the top (it is set when the TUI starts)",
    Choice.DEMO: "quit, and start the TUI in demo mode",
    Choice.CONFIGURE_CREDENTIALS: (
        "configure them (the README's Credentials section says how) and open the profile with the profile "
        "picker, P; or quit, and start the TUI in demo mode"
    ),
    Choice.WRITES: "Turn writes on with ctrl+w",
    Choice.RECONCILE: "Start the TUI again",  # it reconciles the journal when it starts
    Choice.JOURNAL: "journal = PATH in ecs-detach's config.toml, then start the TUI again",
    Choice.RESTART: "the “Start it again afterwards” option",
}
# The move screen's own boxes; the bulk screen has none, so it points to the wizard (d on the disk).
MOVE_WORDS: Words = {
    **TUI_WORDS,
    Choice.UNMOUNT: "the “Unmount it in the source's guest” option",
    Choice.STOP_INSTANCE: "the “Stop the source instance” option",
    Choice.STOP_TARGET: "the “Stop the target instance” option",
    Choice.BOOTABLE: "the “Boot the target from it” option",
    Choice.RESTART: "the wizard's “Start it again afterwards” (d on the disk; a move does not start it)",
}
BULK_WORDS: Words = {
    **TUI_WORDS,
    Choice.UNMOUNT: "the wizard's unmount (d on the disk)",
    Choice.STOP_INSTANCE: "the wizard's stop (d on the disk)",
    Choice.RESTART: "the wizard's “Start it again afterwards” (d on the disk; a bulk run starts nothing)",
}
