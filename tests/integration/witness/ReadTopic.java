// A foreign witness for the SASL_SSL tests: Kafka's own Java client (the jars of the native stack)
// reads a topic from the beginning over SASL_SSL with SCRAM-SHA-512, trusting only the given CA,
// prints each record's value on a line and exits 0 once one contains the needle (1 after 30 s).
// Debian's kcat links librdkafka 2.0.2, whose SCRAM Kafka 4 refuses (fixed in librdkafka 2.6.1).
//
//   java -cp '<kafka libs>/*' ReadTopic.java BOOTSTRAP TOPIC CA_PEM USER PASSWORD NEEDLE
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

public class ReadTopic {
  public static void main(String[] args) {
    var props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("security.protocol", "SASL_SSL");
    props.put("sasl.mechanism", "SCRAM-SHA-512");
    props.put(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
            + args[3] + "\" password=\"" + args[4] + "\";");
    props.put("ssl.truststore.type", "PEM");
    props.put("ssl.truststore.location", args[2]);
    props.put("group.id", "machi-witness-" + System.nanoTime());
    props.put("auto.offset.reset", "earliest");
    props.put("key.deserializer", StringDeserializer.class.getName());
    props.put("value.deserializer", StringDeserializer.class.getName());
    try (var consumer = new KafkaConsumer<String, String>(props)) {
      consumer.subscribe(List.of(args[1]));
      long deadline = System.currentTimeMillis() + 30_000;
      while (System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
          System.out.println(record.value());
          if (record.value().contains(args[5])) return;
        }
      }
    }
    System.exit(1);
  }
}
