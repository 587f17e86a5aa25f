"""The exceptions lrpulse raises.

Every one derives from :class:`LrpulseError` and from the builtin that fits, so ``except ValueError``
keeps working in code that does not know lrpulse.
"""

from __future__ import annotations

__all__ = [
    "LrpulseError",
    "ParameterError",
    "InputError",
    "DTypeError",
    "ConversionError",
    "LogFormatError",
    "LogFileError",
    "LogNotFoundError",
    "LogPermissionError",
    "TagNotFoundError",
    "LogWarning",
]


class LrpulseError(Exception):
    """Base class of every lrpulse error."""


class ParameterError(LrpulseError, ValueError):
    """A schedule parameter or spec is invalid, e.g. ``decay_steps must be > 0, got decay_steps=0``."""


class InputError(LrpulseError, ValueError):
    """An input array has a bad value, shape or length; the message names the element."""


class DTypeError(LrpulseError, TypeError):
    """An input has a type or dtype lrpulse does not accept."""


class ConversionError(LrpulseError, ValueError):
    """A framework scheduler has no closed form lrpulse can reproduce (e.g. ``LambdaLR``)."""


class LogFormatError(LrpulseError, ValueError):
    """A log cannot be read: empty, binary garbage, a bad checksum, a malformed line.

    ``path`` names the file; ``offset`` (byte, binary logs) or ``line`` (1-based, text logs) says where,
    when it applies, else ``None``.
    """

    path: str | None = None
    offset: int | None = None
    line: int | None = None


class LogFileError(LrpulseError, OSError):
    """A log file or folder cannot be opened or read (``errno`` and ``filename`` are set)."""


class LogNotFoundError(LogFileError, FileNotFoundError):
    """A log path does not exist, or a folder holds no training logs."""


class LogPermissionError(LogFileError, PermissionError):
    """A log file or folder may not be read."""


class TagNotFoundError(LrpulseError, KeyError):
    """Tags were asked for that the log does not hold; ``available`` lists the tags it does hold.

    >>> str(TagNotFoundError("run.csv: no tag \"los\"; tags present: \"loss\""))
    'run.csv: no tag "los"; tags present: "loss"'
    """

    path: str | None = None
    missing: tuple[str, ...] | list[str] = ()
    available: tuple[str, ...] | list[str] = ()

    def __str__(self) -> str:  # KeyError would print the message quoted, as a repr
        return str(self.args[0]) if self.args else ""


class LogWarning(UserWarning):
    """A log was read but not whole: it ended inside a record (a run still writing, or killed) or
    damaged records were skipped in lenient mode."""
