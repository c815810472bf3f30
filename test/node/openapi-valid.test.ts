// Runs in Node: validates the OpenAPI document with an OpenAPI 3.1 validator from npm
// (it compiles schemas with code generation, which workerd does not allow).
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../src/openapi/document";

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(buildOpenApiDocument());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("is checked by a validator that does refuse a broken document", async () => {
    const broken = { ...buildOpenApiDocument(), info: undefined, paths: { "/x": { get: { responses: "nope" } } } };
    const result = await new Validator().validate(broken);
    expect(result.valid).toBe(false);
  });
});
