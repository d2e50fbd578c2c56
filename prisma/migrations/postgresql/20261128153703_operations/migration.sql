-- CreateTable
CREATE TABLE "grpc_request_log" (
    "id" BIGSERIAL NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "service" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "code" INTEGER NOT NULL,
    "durationMs" DOUBLE PRECISION NOT NULL,
    "peer" TEXT,
    "userId" INTEGER,
    "apiKeyId" INTEGER,
    "error" TEXT,
    "requestSize" INTEGER,
    "responseSize" INTEGER,
    "serverId" TEXT,

    CONSTRAINT "grpc_request_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "grpc_server" (
    "id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "address" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "services" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastHeartbeat" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "status" TEXT NOT NULL DEFAULT 'serving',

    CONSTRAINT "grpc_server_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "grpc_request_log_createdAt_idx" ON "grpc_request_log"("createdAt");

-- CreateIndex
CREATE INDEX "grpc_request_log_service_method_createdAt_idx" ON "grpc_request_log"("service", "method", "createdAt");
