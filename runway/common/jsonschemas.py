"""JSON Schemas from pydantic models that refuse what the models refuse."""

from __future__ import annotations

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema


class KeysChecked(GenerateJsonSchema):
    """pydantic writes a mapping whose keys have a pattern as `patternProperties` alone, which
    lets any other key through with a value nothing checks (`--set listeners.Http.port=x`);
    the pattern goes to `propertyNames` instead, and every value meets the value schema."""

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        generated = super().dict_schema(schema)
        patterns = generated.pop("patternProperties", None)
        if patterns:
            ((pattern, values),) = patterns.items()
            generated["propertyNames"] = {**generated.get("propertyNames", {}), "pattern": pattern}
            generated["additionalProperties"] = values
        return generated
