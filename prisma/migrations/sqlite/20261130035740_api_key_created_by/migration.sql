-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_grpc_api_key" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "keyHash" TEXT NOT NULL,
    "userId" INTEGER NOT NULL,
    "createdById" INTEGER,
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" DATETIME,
    "lastUsedAt" DATETIME,
    CONSTRAINT "grpc_api_key_userId_fkey" FOREIGN KEY ("userId") REFERENCES "auth_user" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "grpc_api_key_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "auth_user" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_grpc_api_key" ("createdAt", "expiresAt", "id", "isActive", "keyHash", "lastUsedAt", "name", "prefix", "userId") SELECT "createdAt", "expiresAt", "id", "isActive", "keyHash", "lastUsedAt", "name", "prefix", "userId" FROM "grpc_api_key";
DROP TABLE "grpc_api_key";
ALTER TABLE "new_grpc_api_key" RENAME TO "grpc_api_key";
CREATE UNIQUE INDEX "grpc_api_key_keyHash_key" ON "grpc_api_key"("keyHash");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- The permission that lets a user manage other users' API keys (src/auth/acting-for.ts), so that
-- `cfg createuser --perm cfg.manage_api_keys` grants a known permission.
INSERT OR IGNORE INTO "auth_permission" ("app", "codename", "name") VALUES ('cfg', 'manage_api_keys', 'Can manage API keys of other users');
