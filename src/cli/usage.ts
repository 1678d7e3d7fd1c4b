// A mistake in how a command was called (flags, arguments): exit 2 with the message.
export class UsageError extends Error {
  override name = "UsageError";
}
