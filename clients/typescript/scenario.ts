// A programme's day through TypeScript types generated from openapi/openapi.json by
// openapi-typescript (no hand edit) and the openapi-fetch client: the same story as
// clients/python/scenario.py. HQ sets up a store, a questionnaire, a shopper, a wave and a
// webhook; the shopper's app syncs, asks where it may go, accepts its visit, submits,
// uploads and downloads its photo, reads the reviewer's note from its next sync and revises;
// an integrator reads the typed event feed and verifies the webhook delivery with the
// Standard Webhooks library. Compiled with `tsc --strict`, no cast; exits non-zero on any
// surprise.
//
// Environment: SECONDMILE_URL, SECONDMILE_ADMIN_EMAIL, SECONDMILE_ADMIN_PASSWORD.

import { createServer } from "node:http";
import createClient from "openapi-fetch";
import { Webhook } from "standardwebhooks";
import type { components, paths, webhooks } from "./generated/schema.js";

type Schemas = components["schemas"];
/** What a webhook subscribed to `report.approved` receives, as the document describes it. */
type ApprovalDelivery = NonNullable<webhooks["report.approved"]["post"]>["requestBody"]["content"]["application/json"];

const base = env("SECONDMILE_URL");

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${what}`);
}

/** The body of a response that must have succeeded with `status`. */
function expect<T>(result: { data?: T; error?: unknown; response: Response }, status: number): T {
  if (result.response.status !== status || result.data === undefined) {
    throw new Error(
      `${result.response.url}: expected ${status}, got ${result.response.status}: ${JSON.stringify(result.error)}`,
    );
  }
  return result.data;
}

/** The OAuth2 form body of the token endpoint. */
function form(body: Schemas["TokenRequest"]): string {
  const fields = new URLSearchParams();
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === "string") fields.set(key, value);
  }
  return fields.toString();
}

async function signIn(body: Schemas["TokenRequest"]) {
  const anonymous = createClient<paths>({ baseUrl: base });
  const tokens = expect(
    await anonymous.POST("/api/v1/auth/token", {
      body,
      bodySerializer: form,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    }),
    200,
  );
  return createClient<paths>({
    baseUrl: base,
    headers: { Authorization: `Bearer ${tokens.access_token}` },
  });
}

/** A small JPEG (start, JFIF header, one quantisation table, scan, end) with an EXIF block the
 * server removes before storing. */
function tinyJpeg(): Uint8Array<ArrayBuffer> {
  const segment = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));
  return new Uint8Array([
    0xff,
    0xd8,
    ...segment(0xe0, [...ascii("JFIF"), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]),
    ...segment(0xe1, [...ascii("Exif"), 0, 0, ...ascii("GPSLatitude 38.7111 N")]),
    ...segment(0xdb, new Array<number>(65).fill(7)),
    ...segment(0xda, [1, 1, 0, 0, 0x3f, 0]),
    0x12,
    0x34,
    0x56,
    0xff,
    0xd9,
  ]);
}

/** A webhook receiver on a free local port: each POST's headers and body, in order. */
async function receiver() {
  const waiting: ((delivery: { headers: Record<string, string>; body: string }) => void)[] = [];
  const received: { headers: Record<string, string>; body: string }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === "string") headers[name] = value;
      }
      const delivery = { headers, body: Buffer.concat(chunks).toString("utf8") };
      const next = waiting.shift();
      if (next) next(delivery);
      else received.push(delivery);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the receiver has no port");
  const port = address.port;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    next: () =>
      new Promise<{ headers: Record<string, string>; body: string }>((resolve, reject) => {
        const first = received.shift();
        if (first) return resolve(first);
        waiting.push(resolve);
        setTimeout(() => reject(new Error("no webhook delivery within 30 s")), 30_000).unref();
      }),
    close: () => server.close(),
  };
}

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

async function main(): Promise<void> {
  const suffix = Math.random().toString(36).slice(2, 10);
  // Yesterday to a week ahead: the visit an hour ago falls on either day, wherever the clock.
  const from = new Date(Date.now() - 24 * 60 * 60 * 1000);
  const day = (offset: number) => isoDate(new Date(from.getTime() + offset * 24 * 60 * 60 * 1000));

  // HQ sets up the programme.
  const admin = await signIn({
    grant_type: "password",
    username: env("SECONDMILE_ADMIN_EMAIL"),
    password: env("SECONDMILE_ADMIN_PASSWORD"),
  });
  const me = expect(await admin.GET("/api/v1/me"), 200);
  check(me.kind === "user" && me.role === "admin", "signed in as an admin");
  const location = expect(
    await admin.POST("/api/v1/locations", {
      body: {
        code: `TS-${suffix}`,
        name: "Chiado",
        timezone: "Europe/Lisbon",
        region: "Lisbon",
        latitude: 38.7111,
        longitude: -9.1421,
        tags: ["flagship"],
      },
    }),
    201,
  );
  const imported = expect(
    await admin.POST("/api/v1/locations/import", {
      body: new Blob([`code,name,timezone,region\nTS-${suffix}-2,Baixa,Europe/Lisbon,Lisbon\n`], { type: "text/csv" }),
      bodySerializer: (body) => body,
      headers: { "Content-Type": "text/csv" },
    }),
    200,
  );
  check(imported.created === 1 && imported.skipped === 0, "the CSV file creates one store");

  const key = `ts-visit-${suffix}`;
  const questions: Schemas["Question"][] = [
    { key: "greeted", text: "Were you greeted?", type: "yes_no", tier: "first", critical: true },
    { key: "courtesy", text: "How courteous?", type: "scale", min: 1, max: 5, tier: "first" },
    {
      key: "had_issue",
      text: "Did you raise an issue?",
      type: "single_choice",
      options: [
        { value: "yes", label: "Yes" },
        { value: "no", label: "No" },
      ],
    },
    {
      key: "calm",
      text: "Was the issue handled calmly?",
      type: "yes_no",
      tier: "first",
      show_if: { question: "had_issue", equals: ["yes"] },
    },
    { key: "remembered_name", text: "Were you called by name?", type: "yes_no", tier: "second" },
    { key: "storefront", text: "A photo of the storefront", type: "photo", required: false },
  ];
  const draft = expect(
    await admin.POST("/api/v1/questionnaires", {
      body: { key, title: "Store visit", sections: [{ key: "visit", title: "The visit", questions }] },
    }),
    201,
  );
  const published = expect(
    await admin.POST("/api/v1/questionnaires/{id}/publish", { params: { path: { id: draft.id } } }),
    200,
  );
  check(published.status === "published", "the version is published");

  const shopperEmail = `shopper-${suffix}@example.test`;
  const shopperPassword = `shopper passphrase ${suffix}`;
  const shopperUser = expect(
    await admin.POST("/api/v1/users", {
      body: { email: shopperEmail, display_name: "Mystery shopper", role: "shopper", password: shopperPassword },
    }),
    201,
  );
  const wave = expect(
    await admin.POST("/api/v1/waves", {
      body: { name: `Spring ${suffix}`, starts_on: day(0), ends_on: day(30), questionnaire_key: key, visits_per_location: 1 },
    }),
    201,
  );
  expect(
    await admin.POST("/api/v1/waves/{id}/assignments", {
      params: { path: { id: wave.id } },
      body: [{ location_id: location.id, shopper_id: shopperUser.id, visit_from: day(0), visit_to: day(7) }],
    }),
    201,
  );
  const deliveries = await receiver();
  const hook = expect(
    await admin.POST("/api/v1/webhooks", { body: { url: deliveries.url, event_types: ["report.approved"] } }),
    201,
  );

  // The shopper's app: one sync, then the day's work.
  const shopper = await signIn({ grant_type: "password", username: shopperEmail, password: shopperPassword });
  const synced = expect(await shopper.GET("/api/v1/me/sync"), 200);
  check(synced.questionnaires.items.some((q) => q.id === published.id), "the sync has the questionnaire");
  check(synced.assignments.items[0]?.location_id === location.id, "the sync has the visit to do");
  check(synced.reports.items.length === 0 && synced.reports.complete, "no reports yet");
  const again = await shopper.GET("/api/v1/me/sync", { params: { query: { since: synced.cursor } } });
  check(again.response.status === 304, `nothing changed: ${again.response.status}`);
  const stores = expect(await shopper.GET("/api/v1/me/eligible-locations", { params: { query: { region: "Lisbon" } } }), 200);
  check(stores.items.some((s) => s.location_id === location.id && s.eligible), "the store is allowed today");
  const visit = synced.assignments.items[0];
  check(visit !== undefined, "a visit to do");
  const accepted = expect(await shopper.POST("/api/v1/assignments/{id}/accept", { params: { path: { id: visit.id } } }), 200);
  check(accepted.status === "accepted", "accepted");

  const photoId = crypto.randomUUID();
  const started = new Date(Date.now() - 60 * 60 * 1000);
  const submission: Schemas["ReportSubmission"] = {
    id: crypto.randomUUID(),
    location_id: location.id,
    questionnaire_id: published.id,
    assignment_id: accepted.id,
    visit: {
      started_at: started.toISOString(),
      ended_at: new Date(started.getTime() + 15 * 60 * 1000).toISOString(),
    },
    answers: [
      { question: "greeted", value: true },
      { question: "courtesy", value: 5 },
      { question: "had_issue", value: "yes" },
      { question: "calm", value: true },
      { question: "remembered_name", value: true, comment: "She used my name twice" },
      { question: "storefront", value: photoId },
    ],
    narrative: "Warm welcome.",
  };
  const created = expect(await shopper.POST("/api/v1/reports", { body: submission }), 201);
  check(created.status === "submitted" && created.score.mile_level === "second", "submitted, second mile");
  const id = created.id;

  // The photo follows its acknowledged report, as raw bytes with its own media type.
  const jpeg = tinyJpeg();
  const stored = expect(
    await shopper.PUT("/api/v1/reports/{report_id}/attachments/{attachment_id}", {
      params: { path: { report_id: id, attachment_id: photoId } },
      body: new Blob([jpeg], { type: "image/jpeg" }),
      bodySerializer: (body) => body,
      headers: { "Content-Type": "image/jpeg" },
    }),
    201,
  );
  check(stored.media_type === "image/jpeg" && stored.size < jpeg.length, "stored without its metadata");
  const files = expect(await shopper.GET("/api/v1/reports/{id}/attachments", { params: { path: { id } } }), 200);
  check(files.missing.length === 0 && files.received[0]?.id === photoId, "the photo is received");
  const whole = expect(
    await shopper.GET("/api/v1/attachments/{id}", { params: { path: { id: photoId } }, parseAs: "arrayBuffer" }),
    200,
  );
  const bytes = new Uint8Array(whole);
  check(bytes.length === stored.size && bytes[0] === 0xff && bytes[1] === 0xd8, "the whole file downloads");
  const part = expect(
    await shopper.GET("/api/v1/attachments/{id}", {
      params: { path: { id: photoId }, header: { Range: "bytes=2-5" } },
      parseAs: "arrayBuffer",
    }),
    206,
  );
  check(new Uint8Array(part).join(",") === bytes.slice(2, 6).join(","), "a byte range downloads");

  // A reviewer returns it; the app's next sync shows why, and it sends a revision.
  expect(
    await admin.POST("/api/v1/reports/{id}/review", {
      params: { path: { id } },
      body: { action: "return", note: "Who called you by name?" },
    }),
    200,
  );
  const later = expect(await shopper.GET("/api/v1/me/sync", { params: { query: { since: synced.cursor } } }), 200);
  const returned = later.reports.items.find((r) => r.id === id);
  check(returned?.status === "returned" && returned.last_review?.note === "Who called you by name?", "the note reaches the app");
  const revised = expect(
    await shopper.PUT("/api/v1/reports/{id}", {
      params: { path: { id } },
      body: { ...submission, narrative: "Warm welcome; Rita at the till called me by name." },
    }),
    200,
  );
  check(revised.revision === 2, "revision 2");
  const approved = expect(
    await admin.POST("/api/v1/reports/{id}/review", { params: { path: { id } }, body: { action: "approve", revision: 2 } }),
    200,
  );
  check(approved.status === "approved", "approved");
  const history = expect(await admin.GET("/api/v1/reports/{id}/history", { params: { path: { id } } }), 200);
  check(history.items.map((h) => h.action).join(",") === "submit,return,revise,approve", "the history tells the story");
  const summary = expect(await admin.GET("/api/v1/locations/{id}/summary", { params: { path: { id: location.id } } }), 200);
  check(summary.figures.visits === 1 && summary.figures.second_mile.count === 1, "the summary counts the visit");

  // An integrator: reports and the typed event feed with client credentials.
  const integration = expect(
    await admin.POST("/api/v1/integration-clients", {
      body: { name: `BI ${suffix}`, scopes: ["reports:read", "events:read"] },
    }),
    201,
  );
  const bi = await signIn({
    grant_type: "client_credentials",
    client_id: integration.client_id,
    client_secret: integration.client_secret,
  });
  const seen = expect(await bi.GET("/api/v1/reports", { params: { query: { location_id: location.id } } }), 200);
  check(seen.items.length === 1 && seen.items[0]?.staff_observed_redacted === true, "the client sees it, redacted");
  const feed = expect(await bi.GET("/api/v1/events", { params: { query: { types: "report.approved", limit: 500 } } }), 200);
  const approvals = feed.items.filter((e) => e.type === "report.approved" && e.data.report_id === id);
  const approval = approvals[0];
  check(approvals.length === 1 && approval?.type === "report.approved", "one approval in the feed");
  check(approval.data.mile_level === "second" && approval.data.revision === 2, "typed data");

  // The same event, delivered to the webhook: verified, then read as the documented type.
  const delivery = await deliveries.next();
  new Webhook(hook.secret).verify(delivery.body, delivery.headers);
  const event: ApprovalDelivery = JSON.parse(delivery.body);
  check(event.id === approval.id && event.data.report_id === id, "the delivery is the feed's event");
  check(delivery.headers["webhook-id"] === event.id, "webhook-id is the event id");
  let forgedPassed = true;
  try {
    new Webhook(hook.secret).verify(delivery.body.replace("approved", "rejected"), delivery.headers);
  } catch {
    forgedPassed = false;
  }
  check(!forgedPassed, "a changed body fails verification");
  deliveries.close();
  console.log("typescript client scenario: passed");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
