"""A mapping row the editor stories add: the module's internal resistance, which the
national model has and mapping 1.0.0 leaves to the EU supplement."""

NEW_ROW = {
    "subject_id": "cntrace:specs.internal_resistance_module",
    "subject_label": "Internal resistance, module",
    "subject_label_zh": "模块内阻",
    "predicate_id": "skos:exactMatch",
    "object_id": "eubp:initialInternalResistanceModule",
    "object_label": "Initial internal resistance, battery module",
    "mapping_justification": "semapv:ManualMappingCuration",
    "transform": "quantity",
    "transform_params": {"unit": "Ohm"},
    "after": 92,
}
