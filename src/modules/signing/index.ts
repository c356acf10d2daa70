export { createSigner, type Signer, type SignedPayload } from './signer.ts';
export { createSigningService, type SigningService } from './service.ts';
