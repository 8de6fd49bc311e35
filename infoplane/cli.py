"""Command lines built from a config dataclass, and the one-line error exit."""
import argparse
import dataclasses
import sys
import typing

from infoplane.errors import InputError


def _parse_int_tuple(text: str) -> tuple:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")


def _parse_str_tuple(text: str) -> tuple:
    return tuple(part.strip() for part in text.split(",") if part.strip())


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
        parser.add_argument("--" + field.name.replace("_", "-"), dest=field.name,
                            default=default, **kind_options,
                            help=(field.metadata.get("help", "")
                                  + (f" (default: {shown})" if shown != "" else ""))
                            .replace("%", "%%"))  # argparse formats help with %
    return parser


def parse_config(config_class, description: str, argv=None):
    return config_class(**vars(parser_for(config_class, description).parse_args(argv)))


def run(main, config) -> None:
    """Run main(config); an InputError becomes one line on stderr and exit status 2."""
    try:
        main(config)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        sys.exit(2)
