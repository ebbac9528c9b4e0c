"""``search export``: take a found net away as weights, ONNX, TorchScript or a standalone Python file.

The names are imported on first use (see searchspace.lazy_exports), so that an
export's torch-free checks (``search.export.request``) run before torch loads.
"""

from searchspace.lazy_exports import export_lazily

__all__ = export_lazily(__name__, {
    "search.export.api": ("export_net",),
    "search.export.formats": ("ExportMismatch", "load_python_model"),
    "search.export.python_source": ("python_source",),
    "search.export.request": ("FORMATS",),
})
