-- AlterTable
ALTER TABLE "grpc_request_log" DROP CONSTRAINT "grpc_request_log_pkey",
ALTER COLUMN "id" DROP DEFAULT,
ALTER COLUMN "id" SET DATA TYPE TEXT,
ADD CONSTRAINT "grpc_request_log_pkey" PRIMARY KEY ("id");
