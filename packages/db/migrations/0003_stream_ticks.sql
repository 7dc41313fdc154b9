CREATE TABLE "stream_tick" (
	"tick" bigint PRIMARY KEY NOT NULL,
	"snap" "pg_snapshot" NOT NULL,
	"snap_xmax" "xid8" NOT NULL,
	"item_ids" bigint[] NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "message" ADD COLUMN "tx" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
ALTER TABLE "stream_event" ADD COLUMN "tx" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
CREATE INDEX "stream_tick_xmax_idx" ON "stream_tick" USING btree ("snap_xmax","tick");--> statement-breakpoint
CREATE INDEX "message_tx_idx" ON "message" USING btree ("tx");--> statement-breakpoint
CREATE INDEX "stream_event_tx_idx" ON "stream_event" USING btree ("tx");--> statement-breakpoint
-- Tick 0: everything already stored (written by this transaction's rewrite or before) is history.
INSERT INTO "stream_tick" ("tick", "snap", "snap_xmax", "item_ids") SELECT 0, s, pg_snapshot_xmax(s), '{}' FROM pg_current_snapshot() AS s;
