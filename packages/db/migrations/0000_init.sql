CREATE SEQUENCE "public"."event_stream_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "user_info" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "user_info_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"uuid" varchar(20) NOT NULL,
	"username" varchar(20) NOT NULL,
	"nickname" varchar(20) NOT NULL,
	"avatar" varchar(255) DEFAULT 'https://cube.elemecdn.com/0/88/03b0d39583f48206768a7534e55bcpng.png' NOT NULL,
	"gender" smallint DEFAULT 0 NOT NULL,
	"signature" varchar(100) DEFAULT '' NOT NULL,
	"password_hash" text NOT NULL,
	"birthday" varchar(8) DEFAULT '' NOT NULL,
	"is_admin" smallint DEFAULT 0 NOT NULL,
	"status" smallint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_online_at" timestamp (3) with time zone,
	"last_offline_at" timestamp (3) with time zone,
	CONSTRAINT "user_info_uuid_key" UNIQUE("uuid"),
	CONSTRAINT "user_info_username_key" UNIQUE("username"),
	CONSTRAINT "user_info_status_check" CHECK ("user_info"."status" in (0, 1)),
	CONSTRAINT "user_info_gender_check" CHECK ("user_info"."gender" in (0, 1))
);
--> statement-breakpoint
CREATE TABLE "contact_apply" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "contact_apply_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"uuid" varchar(20) NOT NULL,
	"user_id" varchar(20) NOT NULL,
	"contact_id" varchar(20) NOT NULL,
	"contact_type" smallint NOT NULL,
	"status" smallint DEFAULT 0 NOT NULL,
	"message" varchar(100) DEFAULT '' NOT NULL,
	"invited_by" varchar(20),
	"decided_by" varchar(20),
	"decided_at" timestamp (3) with time zone,
	"last_apply_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "contact_apply_uuid_key" UNIQUE("uuid"),
	CONSTRAINT "contact_apply_user_contact_type_key" UNIQUE("user_id","contact_id","contact_type"),
	CONSTRAINT "contact_apply_type_check" CHECK ("contact_apply"."contact_type" in (0, 1)),
	CONSTRAINT "contact_apply_status_check" CHECK ("contact_apply"."status" between 0 and 3)
);
--> statement-breakpoint
CREATE TABLE "user_contact" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "user_contact_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"user_id" varchar(20) NOT NULL,
	"contact_id" varchar(20) NOT NULL,
	"contact_type" smallint NOT NULL,
	"status" smallint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_contact_user_contact_type_key" UNIQUE("user_id","contact_id","contact_type"),
	CONSTRAINT "user_contact_type_check" CHECK ("user_contact"."contact_type" in (0, 1)),
	CONSTRAINT "user_contact_status_check" CHECK ("user_contact"."status" between 0 and 8)
);
--> statement-breakpoint
CREATE TABLE "group_info" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "group_info_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"uuid" varchar(20) NOT NULL,
	"name" varchar(20) NOT NULL,
	"notice" varchar(500) DEFAULT '' NOT NULL,
	"owner_id" varchar(20) NOT NULL,
	"member_cnt" integer DEFAULT 1 NOT NULL,
	"add_mode" smallint DEFAULT 0 NOT NULL,
	"avatar" varchar(255) DEFAULT 'https://cube.elemecdn.com/0/88/03b0d39583f48206768a7534e55bcpng.png' NOT NULL,
	"status" smallint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "group_info_uuid_key" UNIQUE("uuid"),
	CONSTRAINT "group_info_member_cnt_check" CHECK ("group_info"."member_cnt" >= 0),
	CONSTRAINT "group_info_add_mode_check" CHECK ("group_info"."add_mode" in (0, 1)),
	CONSTRAINT "group_info_status_check" CHECK ("group_info"."status" in (0, 1, 2))
);
--> statement-breakpoint
CREATE TABLE "conversation" (
	"id" varchar(64) PRIMARY KEY NOT NULL,
	"kind" smallint NOT NULL,
	"last_seq" bigint DEFAULT 0 NOT NULL,
	"last_message_id" varchar(20),
	"last_message" text DEFAULT '' NOT NULL,
	"last_message_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "conversation_kind_check" CHECK ("conversation"."kind" in (0, 1)),
	CONSTRAINT "conversation_last_seq_check" CHECK ("conversation"."last_seq" >= 0)
);
--> statement-breakpoint
CREATE TABLE "session" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "session_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"uuid" varchar(20) NOT NULL,
	"send_id" varchar(20) NOT NULL,
	"receive_id" varchar(20) NOT NULL,
	"conversation_id" varchar(64) NOT NULL,
	"receive_name" varchar(64) DEFAULT '' NOT NULL,
	"avatar" varchar(255) DEFAULT 'https://cube.elemecdn.com/0/88/03b0d39583f48206768a7534e55bcpng.png' NOT NULL,
	"read_seq" bigint DEFAULT 0 NOT NULL,
	"hidden_seq" bigint,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "session_uuid_key" UNIQUE("uuid"),
	CONSTRAINT "session_send_receive_key" UNIQUE("send_id","receive_id"),
	CONSTRAINT "session_read_seq_check" CHECK ("session"."read_seq" >= 0)
);
--> statement-breakpoint
CREATE TABLE "message" (
	"id" bigint PRIMARY KEY DEFAULT nextval('event_stream_seq') NOT NULL,
	"uuid" varchar(20) NOT NULL,
	"conversation_id" varchar(64) NOT NULL,
	"seq" bigint NOT NULL,
	"session_id" varchar(20) DEFAULT '' NOT NULL,
	"type" smallint DEFAULT 0 NOT NULL,
	"content" text DEFAULT '' NOT NULL,
	"url" varchar(1024) DEFAULT '' NOT NULL,
	"send_id" varchar(20) NOT NULL,
	"send_name" varchar(64) DEFAULT '' NOT NULL,
	"send_avatar" varchar(255) DEFAULT '' NOT NULL,
	"receive_id" varchar(20) NOT NULL,
	"file_type" varchar(255) DEFAULT '' NOT NULL,
	"file_name" varchar(255) DEFAULT '' NOT NULL,
	"file_size" varchar(32) DEFAULT '' NOT NULL,
	"mentioned_user_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"mention_all" boolean DEFAULT false NOT NULL,
	"status" smallint DEFAULT 1 NOT NULL,
	"client_msg_id" varchar(64),
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "message_uuid_key" UNIQUE("uuid"),
	CONSTRAINT "message_conversation_seq_key" UNIQUE("conversation_id","seq"),
	CONSTRAINT "message_sender_client_msg_key" UNIQUE("send_id","conversation_id","client_msg_id"),
	CONSTRAINT "message_seq_check" CHECK ("message"."seq" > 0),
	CONSTRAINT "message_type_check" CHECK ("message"."type" between 0 and 3)
);
--> statement-breakpoint
ALTER TABLE "contact_apply" ADD CONSTRAINT "contact_apply_user_id_user_info_uuid_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user_info"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_contact" ADD CONSTRAINT "user_contact_user_id_user_info_uuid_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user_info"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_info" ADD CONSTRAINT "group_info_owner_id_user_info_uuid_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."user_info"("uuid") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session" ADD CONSTRAINT "session_send_id_user_info_uuid_fk" FOREIGN KEY ("send_id") REFERENCES "public"."user_info"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session" ADD CONSTRAINT "session_conversation_id_conversation_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversation"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message" ADD CONSTRAINT "message_conversation_id_conversation_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversation"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message" ADD CONSTRAINT "message_send_id_user_info_uuid_fk" FOREIGN KEY ("send_id") REFERENCES "public"."user_info"("uuid") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "user_info_created_at_idx" ON "user_info" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "user_info_status_idx" ON "user_info" USING btree ("status");--> statement-breakpoint
CREATE INDEX "contact_apply_contact_type_status_idx" ON "contact_apply" USING btree ("contact_id","contact_type","status");--> statement-breakpoint
CREATE INDEX "user_contact_contact_type_status_idx" ON "user_contact" USING btree ("contact_id","contact_type","status");--> statement-breakpoint
CREATE INDEX "group_info_owner_id_idx" ON "group_info" USING btree ("owner_id");--> statement-breakpoint
CREATE INDEX "group_info_created_at_idx" ON "group_info" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "session_send_id_updated_at_idx" ON "session" USING btree ("send_id","updated_at");--> statement-breakpoint
CREATE INDEX "session_conversation_id_idx" ON "session" USING btree ("conversation_id");--> statement-breakpoint
CREATE INDEX "message_receive_id_created_at_idx" ON "message" USING btree ("receive_id","created_at");--> statement-breakpoint
CREATE INDEX "message_session_id_created_at_idx" ON "message" USING btree ("session_id","created_at");