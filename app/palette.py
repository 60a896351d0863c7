"""The maps' colours (Gi* classes, emerging patterns, a sequential ramp): plain data, importable without
folium (the ``[web]`` extra), so a command can name its colours before it knows whether it draws a map."""

from __future__ import annotations

#: Fill colour of each Gi* class (ArcGIS-like diverging palette).
GI_CLASS_COLOURS = {
    "hot_99": "#d62f27",
    "hot_95": "#ed7551",
    "hot_90": "#fab984",
    "not_significant": "#eeeeee",
    "cold_90": "#c0ccbe",
    "cold_95": "#849eba",
    "cold_99": "#4575b5",
}

#: Fill colour of each emerging hot spot pattern (reds for hot, blues for cold, grey for none).
PATTERN_COLOURS = {
    "new_hot_spot": "#fcbba1",
    "consecutive_hot_spot": "#fc9272",
    "intensifying_hot_spot": "#a50f15",
    "persistent_hot_spot": "#de2d26",
    "diminishing_hot_spot": "#fb6a4a",
    "sporadic_hot_spot": "#fdd0a2",
    "oscillating_hot_spot": "#f16913",
    "historical_hot_spot": "#d9a58f",
    "new_cold_spot": "#c6dbef",
    "consecutive_cold_spot": "#9ecae1",
    "intensifying_cold_spot": "#08519c",
    "persistent_cold_spot": "#3182bd",
    "diminishing_cold_spot": "#6baed6",
    "sporadic_cold_spot": "#deebf7",
    "oscillating_cold_spot": "#4292c6",
    "historical_cold_spot": "#a6bddb",
    "no_pattern": "#eeeeee",
}
#: A light-to-dark sequential palette (ColorBrewer Reds, 5 classes) for counts and shares.
SEQUENTIAL = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")
