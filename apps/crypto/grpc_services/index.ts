import type { GrpcHandlers } from 'cfg-grpc';

/**
 * Discovered by `cfg rungrpc` (apps/crypto/grpc_services is the first module name it tries).
 * Called with null in discovery mode; imports stay inside so that loading this module is
 * cheap and free of import cycles, as the guide advises.
 */
export const grpcHandlers: GrpcHandlers = async (server) => {
  const { registration } = await import('cfg-grpc');
  const { CryptoServiceService } = await import('../../../generated/crypto_service.ts');
  const { CryptoService } = await import('./crypto_service.ts');
  const entry = registration(CryptoServiceService, CryptoService);
  if (server !== null) entry[1](new CryptoService(), server);
  return [entry];
};
