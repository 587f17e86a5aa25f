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
    """Base class of every lrpulse error.

    >>> import lrpulse
    >>> try:
    ...     lrpulse.step_decay(lr=0.1, step_size=0)
    ... except LrpulseError as e:
    ...     print(type(e).__name__, isinstance(e, ValueError))
    ParameterError True
    """


class ParameterError(LrpulseError, ValueError):
    """A schedule parameter or spec is invalid; the message names the parameter and its value.

    >>> import lrpulse
    >>> lrpulse.step_decay(lr=0.1, step_size=0)
    Traceback (most recent call last):
        ...
    lrpulse.errors.ParameterError: step_size must be > 0, got step_size=0
    """


class InputError(LrpulseError, ValueError):
    """An input array has a bad value, shape or length; the message names the element.

    >>> import lrpulse
    >>> lrpulse.constant(lr=0.1)(-1)
    Traceback (most recent call last):
        ...
    lrpulse.errors.InputError: step must be finite and >= 0, got step=-1
    """


class DTypeError(LrpulseError, TypeError):
    """An input has a type or dtype lrpulse does not accept.

    >>> import lrpulse
    >>> lrpulse.constant(lr="0.1")
    Traceback (most recent call last):
        ...
    lrpulse.errors.DTypeError: lr must be a number, got lr='0.1'
    """


class ConversionError(LrpulseError, ValueError):
    """A framework scheduler has no closed form lrpulse can reproduce (e.g. ``LambdaLR``).

    >>> from lrpulse.compat import transformers as hf
    >>> hf.get_adafactor_schedule(0.1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    lrpulse.errors.ConversionError: get_adafactor_schedule has no closed form: Adafactor computes its LR ...
    """


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

    >>> str(TagNotFoundError('run.csv: no tag "los"; tags present: "loss"'))
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
