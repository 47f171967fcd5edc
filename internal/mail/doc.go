// Package mail sends the outbox: a Renderer turns a template and its data
// into a subject and text and HTML bodies (embedded templates, in the
// organization's name), a Sender delivers one message over SMTP (STARTTLS
// when offered, implicit TLS for smtps://, AUTH when the URL has
// credentials), and a Worker claims due entries from the outbox, sends them
// and records the outcome: sent, a retry with exponential backoff and full
// jitter, or failed with the SMTP error after the last attempt.
//
// Entries are written to the outbox in the transaction of the change that
// causes them (account.OutboxTx), so a slow or dead SMTP server never slows
// or fails a request and never loses a message. Delivery is at least once:
// a process that dies between the server's acceptance and recording it
// sends that message again once its lease lapses; claims never hand one
// entry to two workers at once.
//
// The package knows nothing of SQL: the worker reads the outbox through its
// own Outbox interface, which sqlstore.DB implements.
package mail
