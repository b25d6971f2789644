"""Spreadsheets in and out: the API's CSV/XLSX renderers, the bulk CSV parser, admin imports and exports."""
