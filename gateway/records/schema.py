"""The ``cn-trace/1`` national traceability record model, as marshmallow schemas.

China's traceability platform publishes no machine-readable schema (its Annex 3 data
item list is not public), so this model is the gateway's own: built from the data
items per lifecycle stage of the 2018 Interim Provisions on traceability management
(新能源汽车动力蓄电池回收利用溯源管理暂行规定) and the 2026 Interim Measures, and
versioned as ``cn-trace/<n>``. ``docs/record-model.md`` describes every field.

Loading a record with :data:`RECORD_SCHEMA` returns plain JSON data (dicts, lists,
strings, ints, booleans); ``null`` members of optional fields are dropped (null means
absent).

Why one module of some 500 lines: it is the record model itself, one declarative schema
per block of the record, read top to bottom like ``docs/record-model.md``. The field
types live in :mod:`gateway.records.fields`; splitting the blocks across modules would
scatter one versioned model without separating any behaviour.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validates_schema

from gateway.codes import gs1
from gateway.records.fields import (
    BatteryCode,
    CatalogValues,
    DecimalString,
    Email,
    Enum,
    IsoDate,
    Pattern,
    PlatformValues,
    SafeInteger,
    StrictBoolean,
    TaggedUnion,
    Text,
    Timestamp,
    Uri,
)

if TYPE_CHECKING:
    from gateway.records.platform_fields import PlatformFieldTable

MODEL_VERSION = "cn-trace/1"

CATEGORIES = ("ev", "lmt", "industrial", "stationary")
#: Battery status as in Annex XIII 4(b) of Regulation (EU) 2023/1542 ("original,
#: repurposed, re-used, remanufactured or waste").
STATUSES = ("original", "repurposed", "reused", "remanufactured", "waste")
RECIPIENT_ACTIVITIES = ("echelon_use", "recycling")

#: Units allowed per kind of quantity; the first is the preferred one.
UNITS: Mapping[str, tuple[str, ...]] = {
    "capacity": ("Ah", "mAh"),
    "voltage": ("V", "mV"),
    "energy": ("kWh", "Wh", "MWh"),
    "mass": ("kg", "g", "t"),
    "power": ("kW", "W"),
    "resistance": ("Ohm", "mOhm"),
    "temperature": ("°C",),
}

#: Sensitivity classes of the cross-border data policy (after the 2021 automotive
#: data provisions: VIN identifies a vehicle and through it a person; location tracks
#: are sensitive personal information).
SENSITIVITY_CLASSES = ("vehicle_identifier", "personal", "location")


class StrictSchema(Schema):
    """Base schema: unknown members are errors; ``null`` in an optional field means absent."""

    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": "unknown field (not in the cn-trace/1 record model)",
        "type": "must be an object",
    }

    @pre_load
    def _drop_nulls(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {
            key: value
            for key, value in data.items()
            if value is not None or key not in self.load_fields or self.load_fields[key].required
        }


def nested(schema: type[Schema], **kwargs: Any) -> fields.Nested:
    """A nested object field."""
    return fields.Nested(schema, **kwargs)


def listing(inner: fields.Field[Any], item: str, **kwargs: Any) -> fields.List[Any]:
    """A list field; ``item`` is the element name of one entry in the XML form."""
    metadata = {"xml_item": item, **kwargs.pop("metadata", {})}
    return fields.List(inner, metadata=metadata, **kwargs)


@cache
def _quantity_schema(kind: str) -> type[Schema]:
    units = UNITS[kind]
    attrs = {
        "value": DecimalString(required=True, minimum=0),
        "unit": Enum(
            units,
            required=True,
            error=f"unit {{input!r}} is not allowed for a {kind}; allowed units: "
            + ", ".join(units),
        ),
    }
    return type(f"{kind.title()}Quantity", (StrictSchema,), attrs)


def quantity(kind: str, **kwargs: Any) -> fields.Nested:
    """A ``{"value": <decimal>, "unit": <unit>}`` field for one kind of quantity.

    Quantities of a battery (capacity, voltage, mass...) are never negative.

    :param kind: a key of :data:`UNITS`.
    """
    metadata = {"quantity": kind, "units": UNITS[kind], **kwargs.pop("metadata", {})}
    return fields.Nested(_quantity_schema(kind), metadata=metadata, **kwargs)


def sensitive(category: str) -> dict[str, str]:
    """Field metadata marking a field (and everything under it) as sensitive."""
    assert category in SENSITIVITY_CLASSES
    return {"sensitivity": category}


def _check_order(earlier: str, later: str, data: Mapping[str, Any], rule: str) -> None:
    # ISO dates compare correctly as strings.
    if earlier in data and later in data and data[later] < data[earlier]:
        raise ValidationError(f"{data[later]} is before {earlier} {data[earlier]} ({rule})", later)


# -- identity -------------------------------------------------------------------------


class DimensionsSchema(StrictSchema):
    length = DecimalString(minimum=0)
    width = DecimalString(minimum=0)
    height = DecimalString(minimum=0)


class ModuleSchema(StrictSchema):
    code = BatteryCode(product_type="M", required=True)
    cells = listing(BatteryCode(product_type="C"), "cell")


def _gtin(value: str) -> None:
    try:
        gs1.gtin14(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class BatterySchema(StrictSchema):
    code = BatteryCode(required=True)
    category = Enum(CATEGORIES, required=True)
    model = Text()
    trade_name = Text()
    modules = listing(nested(ModuleSchema), "module")
    original_code = BatteryCode()
    status = Enum(STATUSES)
    dimensions_mm = nested(DimensionsSchema)
    # Added to the contract: cells fitted directly in a pack (no modules), GB/T 34014 §4.
    cells = listing(BatteryCode(product_type="C"), "cell")
    # The battery's GTIN (GS1 mod-10 check digit checked): with one, its EU unique product
    # identifier is a GS1 Digital Link (gateway.services.identifiers).
    gtin = Text(max_length=14, validate=_gtin)

    @validates_schema
    def _codes(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        if data.get("original_code") is not None and data["original_code"] == data["code"]:
            raise ValidationError(
                "an echelon-use product keeps its original code beside a new one; "
                "original_code must differ from code",
                "original_code",
            )
        # GB/T 34014 §4: every pack, module and cell has its own code. Places are named
        # only when a code repeats (a pack can hold thousands of cells).
        codes = [data["code"], *data.get("cells", [])]
        for module in data.get("modules", []):
            codes += [module["code"], *module.get("cells", [])]
        if len(set(codes)) == len(codes):
            return
        places: list[tuple[tuple[str | int, ...], str]] = [(("code",), data["code"])]
        for i, module in enumerate(data.get("modules", [])):
            places.append((("modules", i, "code"), module["code"]))
            places += [
                (("modules", i, "cells", j), c) for j, c in enumerate(module.get("cells", []))
            ]
        places += [(("cells", j), c) for j, c in enumerate(data.get("cells", []))]
        seen: dict[str, str] = {}
        errors: dict[Any, Any] = {}
        for path, code in places:
            where = "/".join(str(p) for p in path)
            if code in seen:
                node = errors
                for step in path[:-1]:
                    node = node.setdefault(step, {})
                node[path[-1]] = [f"{code} is listed twice (first at {seen[code]})"]
            seen.setdefault(code, where)
        if errors:
            raise ValidationError(errors)


# -- parties ----------------------------------------------------------------------------


class AddressSchema(StrictSchema):
    street = Text()
    city = Text()
    province = Text()
    postal_code = Text(max_length=16)
    country = Pattern(r"[A-Z]{2}", "an ISO 3166-1 alpha-2 country code")


class PlantSchema(StrictSchema):
    name = Text()
    address = nested(AddressSchema)
    facility_id = Text()


#: GB 32100-2015 unified social credit code: 18 characters from 0-9 and the capital
#: letters except I, O, S, V, Z. The check character is not verified here.
USCC_PATTERN = r"[0-9A-HJ-NPQRTUWXY]{18}"


class ManufacturerSchema(StrictSchema):
    name = Text(required=True)
    name_en = Text()
    code = Pattern(r"[A-Z0-9]{3}", "a GB/T 34014 manufacturer code (3 characters A-Z/0-9)")
    uscc = Pattern(USCC_PATTERN, "a unified social credit code (GB 32100, 18 characters)")
    address = nested(AddressSchema)
    web = Uri()
    email = Email()
    plant = nested(PlantSchema)


class PartySchema(StrictSchema):
    """A company taking part in a lifecycle event (maker, automaker, repairer, outlet...)."""

    name = Text(required=True)
    uscc = Pattern(USCC_PATTERN, "a unified social credit code (GB 32100, 18 characters)")
    # Added: where the event happened (service point, outlet, plant).
    address = nested(AddressSchema)


class RecipientSchema(StrictSchema):
    """A white-listed company receiving a retired battery (规范条件 white list)."""

    name = Text(required=True)
    licence_no = Text(max_length=64)
    activity = Enum(RECIPIENT_ACTIVITIES)
    uscc = Pattern(USCC_PATTERN, "a unified social credit code (GB 32100, 18 characters)")


# -- specifications ---------------------------------------------------------------------


class TemperatureRangeSchema(StrictSchema):
    min = DecimalString(required=True)
    max = DecimalString(required=True)
    unit = Enum(UNITS["temperature"], required=True)

    @validates_schema
    def _ordered(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        from decimal import Decimal

        if Decimal(data["min"]) > Decimal(data["max"]):
            raise ValidationError(f"max {data['max']} is below min {data['min']}", "max")


class SpecsSchema(StrictSchema):
    chemistry = Text()
    cathode = Text()
    anode = Text()
    electrolyte = Text()
    # Added: the fourth key material filed with the code rules (中机函〔2018〕73号).
    separator = Text()
    # Added: series/parallel configuration, e.g. "96S1P" (filed for echelon products).
    configuration = Pattern(r"[1-9][0-9]*S[1-9][0-9]*P", "a configuration like 96S2P")
    rated_capacity = quantity("capacity")
    nominal_voltage = quantity("voltage")
    min_voltage = quantity("voltage")
    max_voltage = quantity("voltage")
    rated_energy = quantity("energy")
    mass = quantity("mass")
    power = quantity("power")
    max_power = quantity("power")
    temperature_range = nested(TemperatureRangeSchema)
    idle_temperature_range = nested(TemperatureRangeSchema)
    expected_cycles = SafeInteger(minimum=0)
    expected_lifetime_years = DecimalString(minimum=0)
    internal_resistance_pack = quantity("resistance")
    # Added: module-level resistance, an Annex IV item beside pack and cell.
    internal_resistance_module = quantity("resistance")
    internal_resistance_cell = quantity("resistance")
    extinguishing_agent = Text()


class ProductionSchema(StrictSchema):
    date = IsoDate()
    batch = Text(max_length=64)
    reported_on = IsoDate()
    # Added (§2.3 出厂日期 / 客户): shipping date and customer (automaker).
    shipped_on = IsoDate()
    customer = nested(PartySchema)

    @validates_schema
    def _dates(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        _check_order("date", "reported_on", data, "a report cannot precede production")
        _check_order("date", "shipped_on", data, "a battery ships after it is made")


# -- vehicle (sensitive) ----------------------------------------------------------------

#: ISO 3779 / GB 16735 VIN: 17 characters, letters I, O and Q never used.
VIN_PATTERN = r"[A-HJ-NPR-Z0-9]{17}"


def vin_field() -> Pattern:
    """A VIN field, marked as a vehicle identifier wherever it appears."""
    return Pattern(
        VIN_PATTERN,
        "a VIN (17 characters, no I, O or Q; ISO 3779)",
        metadata=sensitive("vehicle_identifier"),
    )


class OwnerSchema(StrictSchema):
    name = Text()
    phone = Pattern(r"\+?[0-9][0-9 -]{4,19}", "a telephone number")
    address = nested(AddressSchema)


class LocationSchema(StrictSchema):
    lat = DecimalString(minimum=-90, maximum=90, required=True)
    lon = DecimalString(minimum=-180, maximum=180, required=True)
    # Added: when the position was recorded.
    time = Timestamp()


class VehicleSchema(StrictSchema):
    vin = vin_field()
    model = Text()
    owner = nested(OwnerSchema, metadata=sensitive("personal"))
    last_location = nested(LocationSchema, metadata=sensitive("location"))


# -- lifecycle events -------------------------------------------------------------------


class EventSchema(StrictSchema):
    """Members every lifecycle event has; ``reported_on`` is the platform upload date."""

    type = Text(required=True)
    date = IsoDate(required=True)
    reported_on = IsoDate()
    party = nested(PartySchema)

    @validates_schema
    def _dates(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        _check_order("date", "reported_on", data, "a report cannot precede the event")


class ProductionEvent(EventSchema):
    batch = Text(max_length=64)


class SaleEvent(EventSchema):
    vin = vin_field()
    # GB/T 2260 administrative division code of the sale (销售地区).
    region = Pattern(r"[0-9]{6}", "a GB/T 2260 region code (6 digits)")
    # Added (§2.3 合格证日期): certificate-of-conformity date.
    coc_date = IsoDate()


class InstallationEvent(EventSchema):
    vin = vin_field()
    vehicle_model = Text()


class RepairEvent(EventSchema):
    removed_code = BatteryCode()
    fitted_code = BatteryCode()
    reason = Text(max_length=2000)


class ReplacementEvent(RepairEvent):
    """The battery itself swapped in or out of a vehicle (battery swap, warranty)."""

    vin = vin_field()


class RetirementEvent(EventSchema):
    reason = Text(max_length=2000)
    vin = vin_field()


class HandoverEvent(EventSchema):
    """Hand-over to a recycling service outlet or a white-listed company."""

    recipient = nested(RecipientSchema)
    # Added (§2.3 入库重量 / 来源VIN): weight handed over and the source vehicle.
    mass_kg = DecimalString(minimum=0)
    vin = vin_field()


class EchelonUseEvent(EventSchema):
    new_code = BatteryCode()
    application = Text()
    new_rated_capacity = quantity("capacity")
    # Added (§2.3 产品出库 客户): customer of the echelon product.
    customer = nested(PartySchema)


class DismantlingEvent(EventSchema):
    """Removal of the battery from an end-of-life vehicle by an ELV dismantler."""

    certificate_no = Text(max_length=64)
    destination = nested(RecipientSchema)
    vin = vin_field()


class OutputSchema(StrictSchema):
    material = Text(required=True)
    mass_kg = DecimalString(minimum=0, required=True)


class RecyclingEvent(EventSchema):
    outputs = listing(nested(OutputSchema), "output")
    # Added (§2.3 入库重量): mass of batteries taken in.
    input_mass_kg = DecimalString(minimum=0)


EVENT_SCHEMAS: Mapping[str, type[EventSchema]] = {
    "production": ProductionEvent,
    "sale": SaleEvent,
    "installation": InstallationEvent,
    "repair": RepairEvent,
    "replacement": ReplacementEvent,
    "retirement": RetirementEvent,
    "handover": HandoverEvent,
    "echelon_use": EchelonUseEvent,
    "dismantling": DismantlingEvent,
    "recycling": RecyclingEvent,
}
EVENT_TYPES = tuple(EVENT_SCHEMAS)


# -- usage (BMS summary) ----------------------------------------------------------------


class AlarmSchema(StrictSchema):
    type = Text(required=True, max_length=64)
    # GB/T 32960.3 §7.2.3.9 alarm levels 0 (none) to 3 (highest).
    level = SafeInteger(minimum=0, maximum=3)
    time = Timestamp()


class UsageTemperatureSchema(StrictSchema):
    """The lowest and the highest battery probe temperature over a period, whole °C.

    GB/T 32960.3 reports probe temperatures in whole degrees from -40 to +210 °C (one
    byte, offset 40), so the extremes are integers in that range. ``as_of`` ends the
    period and is when the figures were measured; ``since`` starts it.
    """

    min = SafeInteger(minimum=-40, maximum=210)
    max = SafeInteger(minimum=-40, maximum=210)
    since = IsoDate()
    as_of = IsoDate(required=True)

    @validates_schema
    def _extremes(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        # No values in the messages: the policy may withhold the figures (BMS data).
        if "min" not in data and "max" not in data:
            raise ValidationError("give the lowest (min) or the highest (max) temperature", "max")
        if "min" in data and "max" in data and data["min"] > data["max"]:
            raise ValidationError("the highest temperature is below the lowest (min)", "max")

    @validates_schema
    def _period(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        _check_order("since", "as_of", data, "a period ends after it starts")


class UsageSchema(StrictSchema):
    as_of = IsoDate()
    soh = DecimalString(minimum=0, maximum=100)
    soc = DecimalString(minimum=0, maximum=100)
    cycles = SafeInteger(minimum=0)
    energy_throughput = quantity("energy")
    capacity_throughput = quantity("capacity")
    remaining_capacity = quantity("capacity")
    time_above_max_temp_minutes = SafeInteger(minimum=0)
    time_below_min_temp_minutes = SafeInteger(minimum=0)
    time_charging_above_max_temp_minutes = SafeInteger(minimum=0)
    time_charging_below_min_temp_minutes = SafeInteger(minimum=0)
    deep_discharge_events = SafeInteger(minimum=0)
    overcharge_events = SafeInteger(minimum=0)
    alarms = listing(nested(AlarmSchema), "alarm")
    temperature = nested(UsageTemperatureSchema)


class TestReportSchema(StrictSchema):
    __test__ = False  # not a pytest class

    title = Text()
    standard = Text()
    lab = Text()
    date = IsoDate()
    url = Uri()
    # Added: the laboratory's report number.
    report_no = Text(max_length=64)


# -- EU supplement details --------------------------------------------------------------
# The catalog holds the detailed composition and the spare-part sources as one text each;
# EU data models (Battery Pass 1.2) ask for them in parts, so the exporter may give the
# parts beside the catalog values.


class BatteryMaterialSchema(StrictSchema):
    component = Text(required=True)
    name = Text(required=True)
    # CAS Registry Number: 2-7 digits, 2 digits, a check digit.
    cas = Pattern(r"[0-9]{2,7}-[0-9]{2}-[0-9]", "a CAS Registry Number")
    mass_g = DecimalString(minimum=0)
    critical_raw_material = StrictBoolean()


class SparePartSchema(StrictSchema):
    name = Text(required=True)
    part_number = Text(required=True, max_length=64)


class SparePartSupplierSchema(StrictSchema):
    name = Text(required=True)
    address = nested(AddressSchema)
    email = Email()
    web = Uri()
    parts = listing(nested(SparePartSchema), "part")


#: Members of the EU supplement beyond the catalog keys.
SUPPLEMENT_DETAILS: Mapping[str, fields.Field[Any]] = {
    "battery_materials": listing(nested(BatteryMaterialSchema), "material"),
    "spare_part_suppliers": listing(nested(SparePartSupplierSchema), "supplier"),
}


# -- the record -------------------------------------------------------------------------


class RecordSchema(StrictSchema):
    model_version = Enum((MODEL_VERSION,), required=True)
    battery = nested(BatterySchema, required=True)
    manufacturer = nested(ManufacturerSchema, required=True)
    specs = nested(SpecsSchema)
    production = nested(ProductionSchema)
    vehicle = nested(VehicleSchema)
    events = listing(TaggedUnion(EVENT_SCHEMAS), "event")
    usage = nested(UsageSchema)
    test_reports = listing(nested(TestReportSchema), "test_report")
    eu_supplement = CatalogValues(details=SUPPLEMENT_DETAILS)
    # Items of the national platform beyond this core, declared in a data table.
    platform_fields = PlatformValues()

    @validates_schema
    def _manufacturer_code(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        # GB/T 34014 §4: positions 1-3 of the code are the maker's filed manufacturer code.
        code, maker = data["battery"]["code"], data["manufacturer"].get("code")
        if maker is not None and code[:3] != maker:
            raise ValidationError(
                {
                    "manufacturer": {
                        "code": [
                            f"{maker} differs from the manufacturer code {code[:3]} "
                            f"in positions 1-3 of battery.code"
                        ]
                    }
                }
            )


RECORD_SCHEMA = RecordSchema()


@cache
def record_schema(platform_fields: PlatformFieldTable | None = None) -> RecordSchema:
    """The record schema checking ``platform_fields`` against a given table.

    :param platform_fields: the declared national platform fields; ``None`` for the table
        shipped with the gateway.
    :returns: a shared schema instance (one per table).
    """
    if platform_fields is None:
        return RECORD_SCHEMA
    schema_class = type(
        "RecordSchema", (RecordSchema,), {"platform_fields": PlatformValues(platform_fields)}
    )
    schema: RecordSchema = schema_class()
    return schema
