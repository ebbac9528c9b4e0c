"""Datasets for proxy training and scoring, loaded by name into memory.

>>> from evaluators.data import load_dataset
>>> data = load_dataset("digits", resolution=32)

See :func:`describe_datasets` for what each name is. The names are imported on
first use (see searchspace.lazy_exports): the registry and an image folder's
pre-scan are torch-free, and the command line uses them before torch loads.
"""

from searchspace.lazy_exports import export_lazily

__all__ = export_lazily(__name__, {
    "evaluators.errors": ("DatasetError",),
    "evaluators.data.base": ("ImageDataset",),
    "evaluators.data.registry": ("DEFAULT_DATASET", "dataset_names", "dataset_options", "describe_datasets",
                                 "load_dataset", "prescan_dataset"),
})
