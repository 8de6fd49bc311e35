"""Command lines built from a config dataclass, and the one-line error exit."""
import argparse
import dataclasses
import os
import sys
import tempfile
import traceback
import typing
from pathlib import Path

from infoplane.errors import InputError


def _parse_int_tuple(text: str) -> tuple:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")


def _parse_str_tuple(text: str) -> tuple:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def flag(name: str) -> str:
    """The command-line flag of a config field: train_subset -> --train-subset."""
    return "--" + name.replace("_", "-")


def setting(default, help: str):
    """A config field with its help text: `lr: float = setting(1e-3, "Adam learning rate")`."""
    return dataclasses.field(default=default, metadata={"help": help})


PARSERS = {int: int, float: float, str: str,
           tuple[int, ...]: _parse_int_tuple, tuple[str, ...]: _parse_str_tuple}


def parser_for(config_class, description: str) -> argparse.ArgumentParser:
    """One --flag-name per field of the dataclass; the help is the field's comment in
    metadata['help']. Tuples are written comma-separated (--iterations 0,5,10), booleans
    as --flag / --no-flag."""
    parser = argparse.ArgumentParser(description=description)
    hints = typing.get_type_hints(config_class)
    for field in dataclasses.fields(config_class):
        kind = hints[field.name]
        default = field.default
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        kind_options = ({"action": argparse.BooleanOptionalAction} if kind is bool
                        else {"type": PARSERS[kind]})  # --flag / --no-flag
        parser.add_argument(flag(field.name), dest=field.name,
                            default=default, **kind_options,
                            help=(field.metadata.get("help", "")
                                  + (f" (default: {shown})" if shown != "" else ""))
                            .replace("%", "%%"))  # argparse formats help with %
    return parser


def parse_config(config_class, description: str, argv=None):
    return config_class(**vars(parser_for(config_class, description).parse_args(argv)))


def describe(error: Exception) -> tuple:
    """(exit status, one line) for an exception: 2 for bad input (InputError) and for the
    file system (OSError: disk full, read-only, permissions), 1 for anything else, an
    internal error, whose traceback goes to a log file that the line names."""
    if isinstance(error, InputError):
        return 2, str(error)
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return 2, f"{where}{error.strerror or error}"
    log = Path(tempfile.gettempdir()) / f"infoplane-error-{os.getpid()}.log"
    try:
        log.write_text("".join(traceback.format_exception(error)))
        kept = f"traceback in {log}"
    except OSError:
        kept = "traceback not saved"
    return 1, f"internal error {type(error).__name__}: {error} ({kept})"


def run(main, config) -> None:
    """Run main(config); any exception becomes one line on stderr and its describe()
    exit status."""
    try:
        main(config)
    except Exception as error:
        status, line = describe(error)
        print(f"error: {line}", file=sys.stderr, flush=True)
        sys.exit(status)
