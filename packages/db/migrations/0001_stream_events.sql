CREATE TABLE "stream_event" (
	"id" bigint PRIMARY KEY DEFAULT nextval('event_stream_seq') NOT NULL,
	"type" varchar(40) NOT NULL,
	"group_id" varchar(20),
	"user_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "stream_event_group_id_idx" ON "stream_event" USING btree ("group_id","id");--> statement-breakpoint
CREATE INDEX "message_conversation_id_id_idx" ON "message" USING btree ("conversation_id","id");