"""The user errors of the evaluators layer, torch-free so the command line can catch them before torch loads."""


class DatasetError(ValueError):
    """A dataset name, option or file that cannot be used (user error)."""


class DeviceError(ValueError):
    """A device string that is malformed or names hardware this machine lacks."""
