// Generates clients/typescript/generated/schema.d.ts from openapi/openapi.json with
// openapi-typescript's Node API. One option differs from the command line's defaults: a binary
// body (`type: string, format: binary`: a photo, a PDF, a CSV file) is a `Blob`, which is what
// `fetch` sends and what openapi-fetch's `parseAs: "blob"` returns, instead of a `string`.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const here = dirname(fileURLToPath(import.meta.url));
const document = JSON.parse(readFileSync(resolve(here, "../../openapi/openapi.json"), "utf8"));
const blob = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const ast = await openapiTS(document, {
  transform(schema) {
    if (schema.format === "binary") return blob;
    return undefined;
  },
});
const out = resolve(here, "generated/schema.d.ts");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, astToString(ast));
