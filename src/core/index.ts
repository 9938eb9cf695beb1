export { CoreClient, scrubSecrets } from './client.js';
export type { CoreClientOptions, PollOptions } from './client.js';
export { CoreError, isTemporaryStatus } from './errors.js';
export type { CoreMessage, FrontendInfo, NewMessage, ReceiptReport } from './types.js';
