package io.infergate.gateway.features;

import io.infergate.common.config.ConfigException;
import io.infergate.common.status.ServingException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A feature key built from request fields: {@code user:{user_id}} with the instance's user_id. */
final class KeyTemplate {

  private static final Pattern FIELD = Pattern.compile("\\{([A-Za-z0-9_]+)}");

  private final String template;
  private final List<String> literals = new ArrayList<>();
  private final List<String> fields = new ArrayList<>();

  KeyTemplate(String template) {
    this.template = template;
    Matcher matcher = FIELD.matcher(template);
    int at = 0;
    while (matcher.find()) {
      literals.add(template.substring(at, matcher.start()));
      fields.add(matcher.group(1));
      at = matcher.end();
    }
    literals.add(template.substring(at));
    if (fields.isEmpty()) {
      throw new ConfigException("Feature key '" + template + "' names no request field, like user:{user_id}");
    }
  }

  Set<String> fields() {
    return new LinkedHashSet<>(fields);
  }

  /** The key of one instance, from its fields' values. */
  String key(Map<String, List<String>> values, int instance) {
    StringBuilder key = new StringBuilder(literals.get(0));
    for (int i = 0; i < fields.size(); i++) {
      List<String> field = values.get(fields.get(i));
      if (field == null || instance >= field.size()) {
        throw ServingException.invalidArgument("Every instance needs the field '" + fields.get(i)
            + "' to build its feature key " + template);
      }
      key.append(field.get(instance)).append(literals.get(i + 1));
    }
    return key.toString();
  }
}
