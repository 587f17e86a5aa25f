"""The exceptions lrpulse raises.

Every one derives from :class:`LrpulseError` and from the builtin that fits, so ``except ValueError``
keeps working in code that does not know lrpulse.
"""

from __future__ import annotations

__all__ = ["LrpulseError", "ParameterError", "InputError", "DTypeError", "ConversionError"]


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
