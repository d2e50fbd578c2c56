-- CreateTable
CREATE TABLE "grpc_request_log" (
    "id" BIGINT NOT NULL PRIMARY KEY,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "service" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "code" INTEGER NOT NULL,
    "durationMs" REAL NOT NULL,
    "peer" TEXT,
    "userId" INTEGER,
    "apiKeyId" INTEGER,
    "error" TEXT,
    "requestSize" INTEGER,
    "responseSize" INTEGER,
    "serverId" TEXT
);

-- CreateTable
CREATE TABLE "grpc_server" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "address" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "services" TEXT NOT NULL,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastHeartbeat" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "status" TEXT NOT NULL DEFAULT 'serving'
);

-- CreateIndex
CREATE INDEX "grpc_request_log_createdAt_idx" ON "grpc_request_log"("createdAt");

-- CreateIndex
CREATE INDEX "grpc_request_log_service_method_createdAt_idx" ON "grpc_request_log"("service", "method", "createdAt");
