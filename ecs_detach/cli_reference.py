"""The whole ``ecs-detach`` command line as data, read from its argparse parsers, and what is generated
from it: shell completion (``ecs-detach completion bash|zsh|fish``) and the man page (``ecs-detach man``).

The scripting subcommands come from ``commands._parser.build_parser()`` and the emulator's options from its
own parser, so neither can drift from what the commands accept. The TUI's options (the command without a
subcommand) live in ``tui/app.py``, which the core never imports: ``TUI_OPTIONS`` repeats them, and a test
checks the two agree.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
from dataclasses import dataclass

__all__ = [
    "SHELLS",
    "TUI_OPTIONS",
    "CommandSpec",
    "OptionSpec",
    "command_specs",
    "completion_script",
    "man_page",
    "package_version",
]

SHELLS = ("bash", "zsh", "fish")
_FILE_METAVARS = frozenset({"PATH"})
_FILE_OPTIONS = frozenset({"--journal", "--output", "--fleet"})


@dataclass(frozen=True, slots=True)
class OptionSpec:
    flags: tuple[str, ...]
    help: str = ""
    metavar: str = ""  # "" for a switch
    choices: tuple[str, ...] = ()

    @property
    def takes_value(self) -> bool:
        return bool(self.metavar or self.choices)

    @property
    def takes_path(self) -> bool:
        return self.metavar in _FILE_METAVARS or any(flag in _FILE_OPTIONS for flag in self.flags)


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str  # "" for the command itself (the TUI)
    help: str
    options: tuple[OptionSpec, ...]
    positionals: tuple[str, ...] = ()


TUI_OPTIONS = (
    OptionSpec(("--demo",), "run on the built-in emulator with a demo fleet"),
    OptionSpec(("--profile",), "credentials profile (aliyun CLI config or credentials.ini)", "PROFILE"),
    OptionSpec(("--region",), "region id, e.g. cn-hangzhou", "REGION"),
    OptionSpec(("--endpoint",), "API endpoint URL (e.g. an emulator over HTTP)", "ENDPOINT"),
    OptionSpec(("--read-only",), "start with writes off (ctrl+w arms them)"),
)
_GLOBAL_OPTIONS = (
    OptionSpec(("--version", "-V"), "print the installed version and exit"),
    OptionSpec(("--help", "-h"), "show help and exit"),
)


def package_version() -> str:
    """The installed version (pyproject.toml is the one place it is written)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ecs-detach")
    except PackageNotFoundError:
        return "0+unknown (not installed)"


def _options(parser: argparse.ArgumentParser) -> tuple[tuple[OptionSpec, ...], tuple[str, ...]]:
    options: list[OptionSpec] = []
    positionals: list[str] = []
    for action in parser._actions:  # argparse has no public walk over its actions
        if isinstance(action, argparse._SubParsersAction):
            continue
        help_text = "" if action.help in (None, argparse.SUPPRESS) else str(action.help).replace("%%", "%")
        if not action.option_strings:
            positionals.append(str(action.metavar or action.dest).upper())
            continue
        switch = action.nargs == 0
        metavar = "" if switch else str(action.metavar or action.dest.upper())
        choices = tuple(str(choice) for choice in action.choices) if action.choices else ()
        options.append(OptionSpec(tuple(action.option_strings), help_text, metavar, choices))
    return tuple(options), tuple(positionals)


def command_specs() -> tuple[CommandSpec, ...]:
    """The command itself (the TUI), then every subcommand, with their options."""
    from ecs_detach.commands._parser import build_parser
    from ecs_detach.emulator.server import _parser as emulator_parser

    specs = [CommandSpec("", "the terminal UI", TUI_OPTIONS + _GLOBAL_OPTIONS)]
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: str(choice.help or "") for choice in sub._choices_actions}
    for name, child in sub.choices.items():
        options, positionals = _options(child)
        specs.append(CommandSpec(name, helps.get(name, ""), options, positionals))
    options, _ = _options(emulator_parser())
    specs.append(CommandSpec("emulator", "serve the ECS API emulator over HTTP", options))
    shells = OptionSpec(("--help", "-h"), "show help and exit")
    specs.append(CommandSpec("completion", "print a shell completion script", (shells,), ("bash|zsh|fish",)))
    specs.append(CommandSpec("man", "print the man page (roff)", (shells,)))
    return tuple(specs)


# --- completion ---------------------------------------------------------------------------------------------


def completion_script(shell: str) -> str:
    """The completion script for ``shell`` (bash, zsh or fish)."""
    specs = command_specs()
    if shell == "bash":
        return _bash(specs)
    if shell == "zsh":
        return _zsh(specs)
    if shell == "fish":
        return _fish(specs)
    raise ValueError(f"no completion for {shell!r}: choose one of {', '.join(SHELLS)}")


def _bash(specs: tuple[CommandSpec, ...]) -> str:
    top = specs[0]
    names = " ".join(spec.name for spec in specs[1:])
    cases: list[str] = []
    value_cases: list[str] = []
    for spec in specs:
        flags = " ".join(flag for option in spec.options for flag in option.flags)
        extra = " bash zsh fish" if spec.name == "completion" else ""
        label = spec.name or "''"
        cases.append(f"        {label}) opts={shlex.quote(flags + extra)} ;;")
        for option in spec.options:
            if not option.takes_value:
                continue
            words = (
                f'COMPREPLY=($(compgen -W {shlex.quote(" ".join(option.choices))} -- "$cur"))'
                if option.choices
                else 'COMPREPLY=($(compgen -f -- "$cur"))'
                if option.takes_path
                else "COMPREPLY=()"
            )
            for flag in option.flags:
                value_cases.append(f"        {label}:{flag}) {words}; return ;;")
    return "\n".join(
        [
            "# bash completion for ecs-detach (generated by `ecs-detach completion bash`)",
            "_ecs_detach() {",
            '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" cmd="" word',
            '    for word in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do',
            f'        case " {names} " in *" $word "*) cmd="$word"; break ;; esac',
            "    done",
            '    case "$cmd:$prev" in',
            *value_cases,
            "    esac",
            '    local opts=""',
            '    case "$cmd" in',
            *cases,
            "    esac",
            '    if [[ -z "$cmd" && "$cur" != -* ]]; then',
            f'        COMPREPLY=($(compgen -W "{names}" -- "$cur"))',
            "    else",
            '        COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
            "    fi",
            "}",
            "complete -F _ecs_detach ecs-detach",
            f"# top-level options: {' '.join(flag for option in top.options for flag in option.flags)}",
            "",
        ]
    )


def _zsh_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "'\\''").replace("[", "(").replace("]", ")")


def _zsh_option(option: OptionSpec) -> list[str]:
    help_text = _zsh_text(option.help)
    value = ""
    if option.choices:
        value = f":{option.metavar.lower() or 'value'}:({' '.join(option.choices)})"
    elif option.takes_path:
        value = ":path:_files"
    elif option.takes_value:
        value = f":{_zsh_text(option.metavar.lower())}: "
    return [f"'{flag}[{help_text}]{value}'" for flag in option.flags]


def _zsh(specs: tuple[CommandSpec, ...]) -> str:
    commands = " ".join(f"'{spec.name}:{_zsh_text(spec.help)}'" for spec in specs[1:])
    top = " ".join(part for option in specs[0].options for part in _zsh_option(option))
    cases = []
    for spec in specs[1:]:
        parts = [part for option in spec.options for part in _zsh_option(option)]
        if spec.name == "completion":
            parts.append("'1:shell:(bash zsh fish)'")
        elif spec.positionals:
            parts.append("'*:id: '")
        cases.append(f"        {spec.name}) _arguments {' '.join(parts)} ;;")
    return "\n".join(
        [
            "#compdef ecs-detach",
            "# zsh completion for ecs-detach (generated by `ecs-detach completion zsh`)",
            "_ecs_detach() {",
            f"    local -a commands=({commands})",
            "    if (( CURRENT == 2 )); then",
            "        _describe 'command' commands",
            f"        _arguments {top}",
            "        return",
            "    fi",
            "    case $words[2] in",
            *cases,
            f"        *) _arguments {top} ;;",
            "    esac",
            "}",
            'compdef _ecs_detach ecs-detach 2>/dev/null || _ecs_detach "$@"',
            "",
        ]
    )


def _fish(specs: tuple[CommandSpec, ...]) -> str:
    names = " ".join(spec.name for spec in specs[1:])
    lines = [
        "# fish completion for ecs-detach (generated by `ecs-detach completion fish`)",
        "complete -c ecs-detach -f",
    ]
    for spec in specs[1:]:
        lines.append(
            f"complete -c ecs-detach -n '__fish_use_subcommand' -a {spec.name} -d {shlex.quote(spec.help)}"
        )
    for spec in specs:
        condition = (
            f"__fish_seen_subcommand_from {spec.name}"
            if spec.name
            else f"not __fish_seen_subcommand_from {names}"
        )
        for option in spec.options:
            parts = [f"complete -c ecs-detach -n {shlex.quote(condition)}"]
            for flag in option.flags:
                parts.append(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}")
            if option.choices:
                parts.append(f"-x -a {shlex.quote(' '.join(option.choices))}")
            elif option.takes_path:
                parts.append("-r -F")
            elif option.takes_value:
                parts.append("-x")
            if option.help:
                parts.append(f"-d {shlex.quote(option.help)}")
            lines.append(" ".join(parts))
    lines.append("complete -c ecs-detach -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'")
    return "\n".join(lines) + "\n"


# --- man page -----------------------------------------------------------------------------------------------

_ENVIRONMENT = (
    (
        "ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN",
        "credentials",
    ),
    ("ALIBABA_CLOUD_PROFILE", "the profile to use when --profile is not given"),
    ("ALIBABA_CLOUD_REGION_ID", "the region when neither --region nor the profile names one"),
    ("ALIBABA_CLOUD_ENDPOINT", "the endpoint when neither --endpoint nor the profile names one"),
    ("ALIBABA_CLOUD_IGNORE_PROFILE=TRUE", "ignore ~/.aliyun/config.json and credentials.ini"),
    ("ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE", "OIDC (RRSA)"),
    ("ALIBABA_CLOUD_ECS_METADATA", "the ECS instance RAM role to take credentials from"),
    ("ALIBABA_CLOUD_CREDENTIALS_URI", "a URL that hands out credentials"),
    ("ALIBABA_CLOUD_STS_ENDPOINT, ALIBABA_CLOUD_STS_REGION", "where RAM roles are assumed"),
    (
        "ECS_DETACH_PROTECTED_PROFILES, ECS_DETACH_PROTECTED_REGIONS",
        "start these read-only (comma-separated)",
    ),
    ("XDG_CONFIG_HOME, XDG_STATE_HOME", "where config.toml and the journal live"),
    ("ECS_DETACH_DEBUG=1", "show a traceback for a bug report"),
)
_FILES = (
    (
        "$XDG_CONFIG_HOME/ecs-detach/config.toml",
        "ecs-detach's settings: protected profiles and regions, journal",
    ),
    ("~/.aliyun/config.json", "aliyun CLI profiles (read, never written)"),
    ("~/.alibabacloud/credentials.ini", "credentials file of the official SDKs"),
    ("$XDG_STATE_HOME/ecs-detach/journal.jsonl", "the journal of every change, with request ids"),
)
_EXIT = (
    ("0", "done"),
    ("1", "the operation failed"),
    ("2", "bad usage or input (credentials, config)"),
    ("3", "blocked by a precondition"),
    ("4", "timed out"),
)


def _roff(text: str) -> str:
    escaped = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + escaped if escaped.startswith((".", "'")) else escaped


def _option_lines(option: OptionSpec) -> list[str]:
    flags = ", ".join(f"\\fB{_roff(flag)}\\fR" for flag in option.flags)
    value = ""
    if option.choices:
        value = " {" + "|".join(_roff(choice) for choice in option.choices) + "}"
    elif option.metavar:
        value = f" \\fI{_roff(option.metavar)}\\fR"
    return [".TP", flags + value, _roff(option.help or "")]


def man_page() -> str:
    """The man page, in roff (``ecs-detach man | man -l -``)."""
    version = package_version()
    today = datetime.date.today().isoformat()
    specs = command_specs()
    lines = [
        f'.TH ECS\\-DETACH 1 "{today}" "ecs-detach {_roff(version)}" "User Commands"',
        ".SH NAME",
        "ecs\\-detach \\- detach disks from Alibaba Cloud ECS instances safely",
        ".SH SYNOPSIS",
        "\\fBecs\\-detach\\fR [\\fIOPTIONS\\fR]",
        ".br",
        "\\fBecs\\-detach\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]",
        ".SH DESCRIPTION",
        "Without a command, ecs\\-detach starts its terminal UI. The commands script the same work: every "
        "precondition of DetachDisk is checked before anything is sent, a plan shows the calls and the "
        "equivalent aliyun commands, and changes need a confirmation (\\fB\\-\\-yes\\fR).",
        ".SH OPTIONS",
    ]
    for option in specs[0].options:
        lines += _option_lines(option)
    lines.append(".SH COMMANDS")
    for spec in specs[1:]:
        args = " ".join(f"\\fI{_roff(name)}\\fR" for name in spec.positionals)
        lines += [".SS", f"\\fB{_roff(spec.name)}\\fR {args}".rstrip(), ".PP", _roff(spec.help)]
        for option in spec.options:
            lines += _option_lines(option)
    lines.append(".SH EXIT STATUS")
    for code, meaning in _EXIT:
        lines += [".TP", f"\\fB{code}\\fR", _roff(meaning)]
    lines.append(".SH ENVIRONMENT")
    for name, meaning in _ENVIRONMENT:
        lines += [".TP", f"\\fB{_roff(name)}\\fR", _roff(meaning)]
    lines.append(".SH FILES")
    for path, meaning in _FILES:
        lines += [".TP", f"\\fI{_roff(path)}\\fR", _roff(meaning)]
    lines += [".SH SEE ALSO", "\\fBaliyun\\fR(1)", ""]
    return "\n".join(lines)
