// Every outbound connection to an address that arrived through the API (webhooks, image import, link
// checks, SMTP senders, Salesforce) goes through here only; connectors' hosts are checked when saved too.
export { isForbiddenAddress, isAddressAllowed, inAllowList, parseAllowList, embeddedIPv4 } from './guard.ts';
export type { AllowList, PrivatePolicy } from './guard.ts';
export { safeFetch, createOutboundClient, checkUrl } from './fetch.ts';
export type { OutboundClient, OutboundOptions, SafeRequest, SafeResponse } from './fetch.ts';
export { checkHostOnSave, connectGuarded, outboundPolicy, resolveAllowed, systemResolver, type GuardedConnectOptions, type Resolver } from './connect.ts';
