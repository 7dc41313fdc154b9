-- Trigram search over message text; a trusted extension, shipped by PostgreSQL and PGlite.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
ALTER TABLE "user_contact" ADD COLUMN "role" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "group_info" ADD COLUMN "mute_all" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "message" ADD COLUMN "recalled_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "message" ADD COLUMN "recalled_by" varchar(20);--> statement-breakpoint
CREATE INDEX "message_mention_idx" ON "message" USING btree ("conversation_id","seq") WHERE "message"."mention_all" or cardinality("message"."mentioned_user_ids") > 0;--> statement-breakpoint
CREATE INDEX "message_content_trgm_idx" ON "message" USING gin ("content" gin_trgm_ops);--> statement-breakpoint
ALTER TABLE "user_contact" ADD CONSTRAINT "user_contact_role_check" CHECK ("user_contact"."role" in (0, 1));