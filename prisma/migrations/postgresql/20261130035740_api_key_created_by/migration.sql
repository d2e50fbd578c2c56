-- AlterTable
ALTER TABLE "grpc_api_key" ADD COLUMN     "createdById" INTEGER;

-- AddForeignKey
ALTER TABLE "grpc_api_key" ADD CONSTRAINT "grpc_api_key_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "auth_user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- The permission that lets a user manage other users' API keys (src/auth/acting-for.ts), so that
-- `cfg createuser --perm cfg.manage_api_keys` grants a known permission.
INSERT INTO "auth_permission" ("app", "codename", "name") VALUES ('cfg', 'manage_api_keys', 'Can manage API keys of other users') ON CONFLICT ("app", "codename") DO NOTHING;
