-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_grpc_request_log" (
    "id" TEXT NOT NULL PRIMARY KEY,
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
INSERT INTO "new_grpc_request_log" ("apiKeyId", "code", "createdAt", "durationMs", "error", "id", "method", "peer", "requestSize", "responseSize", "serverId", "service", "userId") SELECT "apiKeyId", "code", "createdAt", "durationMs", "error", "id", "method", "peer", "requestSize", "responseSize", "serverId", "service", "userId" FROM "grpc_request_log";
DROP TABLE "grpc_request_log";
ALTER TABLE "new_grpc_request_log" RENAME TO "grpc_request_log";
CREATE INDEX "grpc_request_log_createdAt_idx" ON "grpc_request_log"("createdAt");
CREATE INDEX "grpc_request_log_service_method_createdAt_idx" ON "grpc_request_log"("service", "method", "createdAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
