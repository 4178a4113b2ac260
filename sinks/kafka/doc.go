// Package kafka is the Kafka sink: records become messages produced
// synchronously with segmentio/kafka-go, and Write returns only once every
// message of the batch is acknowledged (by all in-sync replicas, with the
// default required_acks = "all").
//
// Sending. Write has its whole batch at once, so it partitions it itself
// and sends one produce request per partition (more if the partition's
// share exceeds batch_size or batch_bytes), the partitions concurrently,
// through kafka-go's Client and Transport, which route each request to the
// partition's leader. kafka-go's Writer is not used: a synchronous
// WriteMessages waits out its batch timeout for the last, partial batch of
// every partition, which made that timeout the floor of each Write's
// latency. Partition counts come from the transport's metadata cache,
// which it refreshes every few seconds and which Write drops after a
// failed attempt, so a new leader or new partitions are found.
//
// Keys and order. The key is the user by default, so that one user's events
// land on one partition in the order they were written. Partitions are
// chosen with kafka-go's Murmur2Balancer, whose hash is the Java client's
// and librdkafka's default (murmur2_random), so a keyed record lands where
// a Java or librdkafka producer would put it. key = "mailbox" keys on the
// mailbox's IMAP URL (user, host and mailbox, without UIDVALIDITY or UID);
// events without a mailbox (Login, Logout) fall back to the user's key.
// key = "id" spreads events evenly but keeps no order; key = "none", and
// dead letters or events without the chosen field, get no key and a random
// partition, as murmur2_random does for a null key.
//
// Headers. Each message carries mailevents-type (the event type, or
// "dead-letter"), mailevents-id and mailevents-host (the host of the
// event's uri), so consumers can filter without parsing JSON.
//
// Failure model. When a produce request fails, its partition's later
// requests in that attempt are not sent, so that nothing overtakes the
// failed records; the other partitions go on. Write then sends again only
// the messages that were not acknowledged, with backoff, until all are
// acknowledged or the context ends or Close is called. A message sent
// again may already have been written (the broker can store a request
// whose response was lost), so consumers can see a record twice, always
// with the same mailevents-id, but never lose one Write reported. To keep
// per-key order despite that, when a message fails, the later messages of
// the batch with the same topic and key are sent again after it even if
// they succeeded (they can, when a topic gained partitions between
// attempts): a consumer may then see A2 A1 A2, but the last copy of each
// is in order. Errors the broker will not change its mind about
// (authorization, an unsupported codec) end Write at once; the pipeline
// then retries the batch with its own backoff.
//
// Oversized records. The broker refuses a record batch over its
// message.max.bytes, so a single oversized record would block the pipeline
// forever. Write therefore sets aside any record over max_message_bytes,
// and hands it to Options.Oversize, which the daemon wires to its
// dead-letter output; without that callback Write fails naming the record.
// When the broker refuses a request as MESSAGE_TOO_LARGE (the topic's
// max.message.bytes is below max_message_bytes), its records are sent
// again one per request, and those refused alone are set aside the same
// way.
package kafka
