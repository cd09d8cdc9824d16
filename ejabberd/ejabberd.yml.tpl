# cloudgate: project-local ejabberd configuration (ejabberd 23.01, Debian's package).
# Rendered by ejabberd/config.ts: each double-braced NAME is filled at set-up.
# Nothing here refers to /etc/ejabberd: certificates, keys, spool and logs live in
# the server's own directory.

hosts:
{{HOSTS}}

loglevel: {{LOGLEVEL}}
log_rotate_count: 0
hide_sensitive_log_data: true

# ejabberd's caches (roster, roster items, last activity, ...) hold 1,000 entries by
# default and are emptied whole when they overflow: with thousands of agents online,
# every stanza routed to one of them missed the cache and read Mnesia again. One entry
# per account online with room to spare.
cache_size: 100000

certfiles:
  - "{{CERTFILE}}"

define_macro:
  'TLS_OPTIONS':
    - "no_sslv3"
    - "no_tlsv1"
    - "no_tlsv1_1"
    - "cipher_server_preference"
    - "no_compression"
c2s_protocol_options: 'TLS_OPTIONS'

# Internal store for people (SCRAM passwords) beside JWT for agents: whoever holds the
# key mints a short-lived login, so no account is registered per VM. Per-host keys
# (host_config below) scope each cloud agent's key to its own instances' host.
auth_method: [mnesia, jwt]
auth_password_format: scram
jwt_key: "{{JWT_KEY}}"
jwt_jid_field: "jid"

# Agents send in bursts and must not be throttled; people's accounts (anyone not in the
# agents ACL) get a shaper and a short offline queue, so one account cannot flood the
# server or fill its spool for a recipient who is away.
shaper:
  fast: 10000000
  people:
    rate: {{PEOPLE_RATE}}
    burst_size: {{PEOPLE_BURST}}
shaper_rules:
  max_user_sessions: 10
  max_user_offline_messages:
    - {{MAX_OFFLINE}}: agents
    - {{MAX_OFFLINE_PEOPLE}}: all
  c2s_shaper:
    - none: agents
    - people: all

listen:
  -
    port: {{C2S_PORT}}
    ip: "{{IP}}"
    module: ejabberd_c2s
    starttls: true
    # No SASL (and so no password or token) before the stream is encrypted.
    starttls_required: true
    shaper: c2s_shaper
    access: c2s
    max_stanza_size: {{MAX_STANZA}}
    # Login storms: hundreds of agents connect at once after a restart.
    backlog: {{BACKLOG}}
    protocol_options: 'TLS_OPTIONS'
  -
    port: {{COMPONENT_PORT}}
    ip: "{{IP}}"
    module: ejabberd_service
    backlog: 256
    max_stanza_size: {{MAX_STANZA}}
    shaper: none
    hosts:
{{COMPONENTS}}

acl:
  admin:
    user:
{{ADMINS}}
  local:
    user_regexp: ""
  # The gateway and cloud agents: they own the PubSub nodes (clouds/<name>,
  # deployments/<id>), so they alone may create them and nobody can squat one first.
  node_creators:
{{NODE_CREATORS}}
  # Every agent: the above and all accounts of the instance hosts (JWT logins only).
  agents:
{{AGENTS}}
  loopback:
    ip:
      - 127.0.0.0/8
      - ::1/128

access_rules:
  local:
    allow: local
  c2s:
    allow: all
  pubsub_createnode:
    - allow: node_creators
    - allow: admin
  configure:
    allow: admin

api_permissions:
  "console commands":
    from:
      - ejabberd_ctl
    who: all
    what: "*"

modules:
  mod_adhoc: {}
  mod_admin_extra: {}
  mod_caps: {}
  mod_disco: {}
  mod_ping: {}
  mod_roster:
    versioning: true
  mod_offline:
    access_max_user_messages: max_user_offline_messages
  mod_pubsub:
    access_createnode: pubsub_createnode
    plugins:
      - flat
      - pep
    max_items_node: 1000
    last_item_cache: true
  # XEP-0198. Agent traffic is bursty and machine-paced: a deep ack queue so a sender
  # with flow control is never cut off, long resumption so a restarted network does not
  # lose a session, and unacked stanzas stored offline when a session cannot resume.
  mod_stream_mgmt:
    max_ack_queue: {{MAX_ACK_QUEUE}}
    resume_timeout: 300
    max_resume_timeout: 3600
    ack_timeout: 60
    resend_on_timeout: if_offline
    queue_type: ram

{{HOST_CONFIG}}
