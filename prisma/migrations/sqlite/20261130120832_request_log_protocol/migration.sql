-- AlterTable: the protocol of each logged call ("grpc", "grpc-web", "connect"). SQLite adds a
-- column with a constant default in place (no copy of the log, as a redefined table would need).
ALTER TABLE "grpc_request_log" ADD COLUMN "protocol" TEXT NOT NULL DEFAULT 'grpc';
