"""u2cut's exceptions: one class per kind of failure, with the command
line's messages. Catch ``u2cut.Error`` for all of them; the input errors
are also ``ValueError``, file errors ``OSError``, GPU errors
``RuntimeError``."""


class Error(Exception):
    """Anything u2cut raises."""


class InputError(Error, ValueError):
    """An input cannot be used: a malformed image, array or weights file,
    a wrong shape or dtype, an unknown name."""


class LimitError(InputError):
    """A valid input over a limit: pixels, a GPU binding's size."""


class NoMatchError(InputError):
    """The adapter asked for matches none of those present."""


class NoWeightsError(InputError):
    """A preset model's weights are not installed (tools/fetch_model.sh)."""


class TrimapError(InputError):
    """Alpha matting found nothing to solve: no unknown or no known pixels."""


class UnsupportedError(Error):
    """The adapter or build cannot run what was asked (a kernel, f16)."""


class GpuError(Error, RuntimeError):
    """The GPU failed: device lost, out of memory, a pipeline."""


class NoAdapterError(GpuError):
    """No GPU adapter exists (with U2CUT_REQUIRE_GPU=1, or for bench)."""


class FileError(Error, OSError):
    """Reading or writing a file failed."""


__all__ = [
    "Error", "InputError", "LimitError", "NoMatchError", "NoWeightsError", "TrimapError",
    "UnsupportedError", "GpuError", "NoAdapterError", "FileError",
]
