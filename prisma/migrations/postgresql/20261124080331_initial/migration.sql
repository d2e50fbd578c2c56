-- CreateTable
CREATE TABLE "auth_user" (
    "id" SERIAL NOT NULL,
    "username" TEXT NOT NULL,
    "email" TEXT NOT NULL DEFAULT '',
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "isStaff" BOOLEAN NOT NULL DEFAULT false,
    "isSuperuser" BOOLEAN NOT NULL DEFAULT false,
    "dateJoined" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastLogin" TIMESTAMP(3),

    CONSTRAINT "auth_user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "auth_group" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "auth_group_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "auth_permission" (
    "id" SERIAL NOT NULL,
    "app" TEXT NOT NULL,
    "codename" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "auth_permission_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "auth_user_groups" (
    "userId" INTEGER NOT NULL,
    "groupId" INTEGER NOT NULL,

    CONSTRAINT "auth_user_groups_pkey" PRIMARY KEY ("userId","groupId")
);

-- CreateTable
CREATE TABLE "auth_user_user_permissions" (
    "userId" INTEGER NOT NULL,
    "permissionId" INTEGER NOT NULL,

    CONSTRAINT "auth_user_user_permissions_pkey" PRIMARY KEY ("userId","permissionId")
);

-- CreateTable
CREATE TABLE "auth_group_permissions" (
    "groupId" INTEGER NOT NULL,
    "permissionId" INTEGER NOT NULL,

    CONSTRAINT "auth_group_permissions_pkey" PRIMARY KEY ("groupId","permissionId")
);

-- CreateTable
CREATE TABLE "grpc_api_key" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "keyHash" TEXT NOT NULL,
    "userId" INTEGER NOT NULL,
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3),
    "lastUsedAt" TIMESTAMP(3),

    CONSTRAINT "grpc_api_key_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "crypto_coin" (
    "id" SERIAL NOT NULL,
    "symbol" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "priceUnits" BIGINT NOT NULL DEFAULT 0,
    "marketCapCents" BIGINT NOT NULL DEFAULT 0,
    "volume24hCents" BIGINT NOT NULL DEFAULT 0,
    "change24hBps" INTEGER NOT NULL DEFAULT 0,
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "crypto_coin_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "crypto_wallet" (
    "id" SERIAL NOT NULL,
    "userId" INTEGER NOT NULL,
    "coinId" INTEGER NOT NULL,
    "balanceUnits" BIGINT NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "crypto_wallet_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "crypto_transfer" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'transfer',
    "idempotencyKey" TEXT NOT NULL,
    "userId" INTEGER NOT NULL,
    "coinId" INTEGER NOT NULL,
    "fromWalletId" INTEGER,
    "toWalletId" INTEGER,
    "amountUnits" BIGINT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "crypto_transfer_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "auth_user_username_key" ON "auth_user"("username");

-- CreateIndex
CREATE UNIQUE INDEX "auth_group_name_key" ON "auth_group"("name");

-- CreateIndex
CREATE UNIQUE INDEX "auth_permission_app_codename_key" ON "auth_permission"("app", "codename");

-- CreateIndex
CREATE UNIQUE INDEX "grpc_api_key_keyHash_key" ON "grpc_api_key"("keyHash");

-- CreateIndex
CREATE UNIQUE INDEX "crypto_coin_symbol_key" ON "crypto_coin"("symbol");

-- CreateIndex
CREATE INDEX "crypto_coin_marketCapCents_idx" ON "crypto_coin"("marketCapCents");

-- CreateIndex
CREATE UNIQUE INDEX "crypto_wallet_userId_coinId_key" ON "crypto_wallet"("userId", "coinId");

-- CreateIndex
CREATE UNIQUE INDEX "crypto_transfer_userId_idempotencyKey_key" ON "crypto_transfer"("userId", "idempotencyKey");

-- AddForeignKey
ALTER TABLE "auth_user_groups" ADD CONSTRAINT "auth_user_groups_userId_fkey" FOREIGN KEY ("userId") REFERENCES "auth_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "auth_user_groups" ADD CONSTRAINT "auth_user_groups_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "auth_group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "auth_user_user_permissions" ADD CONSTRAINT "auth_user_user_permissions_userId_fkey" FOREIGN KEY ("userId") REFERENCES "auth_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "auth_user_user_permissions" ADD CONSTRAINT "auth_user_user_permissions_permissionId_fkey" FOREIGN KEY ("permissionId") REFERENCES "auth_permission"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "auth_group_permissions" ADD CONSTRAINT "auth_group_permissions_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "auth_group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "auth_group_permissions" ADD CONSTRAINT "auth_group_permissions_permissionId_fkey" FOREIGN KEY ("permissionId") REFERENCES "auth_permission"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "grpc_api_key" ADD CONSTRAINT "grpc_api_key_userId_fkey" FOREIGN KEY ("userId") REFERENCES "auth_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "crypto_wallet" ADD CONSTRAINT "crypto_wallet_userId_fkey" FOREIGN KEY ("userId") REFERENCES "auth_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "crypto_wallet" ADD CONSTRAINT "crypto_wallet_coinId_fkey" FOREIGN KEY ("coinId") REFERENCES "crypto_coin"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "crypto_transfer" ADD CONSTRAINT "crypto_transfer_coinId_fkey" FOREIGN KEY ("coinId") REFERENCES "crypto_coin"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "crypto_transfer" ADD CONSTRAINT "crypto_transfer_fromWalletId_fkey" FOREIGN KEY ("fromWalletId") REFERENCES "crypto_wallet"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "crypto_transfer" ADD CONSTRAINT "crypto_transfer_toWalletId_fkey" FOREIGN KEY ("toWalletId") REFERENCES "crypto_wallet"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
