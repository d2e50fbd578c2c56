-- AlterTable
ALTER TABLE "grpc_request_log" ADD COLUMN     "protocol" TEXT NOT NULL DEFAULT 'grpc';
