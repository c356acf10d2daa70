// Outbound requests to user-supplied URLs (webhooks, image import, link checks) go through here only.
export { isForbiddenAddress, isAddressAllowed, inAllowList, parseAllowList, embeddedIPv4 } from './guard.ts';
export type { AllowList, PrivatePolicy } from './guard.ts';
export { safeFetch, createOutboundClient, checkUrl } from './fetch.ts';
export type { OutboundClient, OutboundOptions, Resolver, SafeRequest, SafeResponse } from './fetch.ts';
