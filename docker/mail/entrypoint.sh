#!/bin/sh
# A development mail server for helpdesk: Postfix (SMTP) delivering over LMTP
# into Dovecot (IMAP), both in the foreground, logging to stdout.
#
# Configuration is generated at every start from the environment:
#   MAIL_DOMAINS   virtual mailbox domains, space-separated (required)
#   MAIL_USERS     "address:password" pairs, space-separated (required);
#                  every address must be in one of MAIL_DOMAINS
#   MAIL_STATE     mailboxes and the Postfix queue (default /var/mail-state)
#   MAIL_CONF      generated configuration and runtime files (default /run/helpdesk-mail)
#   MAIL_LISTEN    IPv4 address to listen on (default 0.0.0.0)
#   SMTP_PORT      Postfix's SMTP port (default 25)
#   IMAP_PORT      Dovecot's IMAP port (default 143)
#   MAIL_HOSTNAME  Postfix's myhostname (default mx.<first domain>)
#   MAIL_NETWORKS  clients allowed to send to any domain (default loopback
#                  and the private IPv4 ranges, i.e. the Docker networks)
#
# Guarantees: mail to user+anything@domain lands in user's INBOX; mail to an
# unknown user of a listed domain is accepted and bounced (a DSN to the
# envelope sender); mail to any other domain is bounced too: nothing leaves.
# No TLS; plaintext IMAP login; failed logins are not penalised per client.
set -eu
# The lists below are split on spaces; a * in a password is not a pattern.
set -f

MAIL_STATE=${MAIL_STATE:-/var/mail-state}
MAIL_CONF=${MAIL_CONF:-/run/helpdesk-mail}
MAIL_LISTEN=${MAIL_LISTEN:-0.0.0.0}
SMTP_PORT=${SMTP_PORT:-25}
IMAP_PORT=${IMAP_PORT:-143}
MAIL_NETWORKS=${MAIL_NETWORKS:-127.0.0.0/8 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16}

say() { printf 'mail-entrypoint: %s\n' "$*"; }
die() { printf 'mail-entrypoint: %s\n' "$*" >&2; exit 1; }

lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }

# --- validate the environment ------------------------------------------------

[ -n "${MAIL_DOMAINS:-}" ] || die "MAIL_DOMAINS is empty (e.g. \"helpdesk.test acme.test\")"
[ -n "${MAIL_USERS:-}" ] || die "MAIL_USERS is empty (e.g. \"support@helpdesk.test:demo\")"
case $SMTP_PORT in '' | *[!0-9]*) die "SMTP_PORT $SMTP_PORT is not a port number" ;; esac
case $IMAP_PORT in '' | *[!0-9]*) die "IMAP_PORT $IMAP_PORT is not a port number" ;; esac
case $MAIL_LISTEN in '' | *[!0-9.]*) die "MAIL_LISTEN $MAIL_LISTEN is not an IPv4 address" ;; esac
case $MAIL_STATE in /*) ;; *) die "MAIL_STATE must be an absolute path" ;; esac
case $MAIL_CONF in /*) ;; *) die "MAIL_CONF must be an absolute path" ;; esac
# Dovecot's sockets live under MAIL_CONF; a Unix socket path has ~100 bytes.
[ ${#MAIL_CONF} -le 60 ] || die "MAIL_CONF is too long for Unix socket paths (60 bytes at most)"

domains=
for d in $MAIL_DOMAINS; do
	d=$(lower "$d")
	case $d in
	*[!a-z0-9.-]* | .* | *. | *..*) die "MAIL_DOMAINS: $d is not a domain name" ;;
	esac
	domains="$domains $d"
done
domains=${domains# }
first_domain=${domains%% *}
MAIL_HOSTNAME=${MAIL_HOSTNAME:-mx.$first_domain}

users_file_content=
count=0
for entry in $MAIL_USERS; do
	case $entry in
	*:*) ;;
	*) die "MAIL_USERS: $entry is not address:password" ;;
	esac
	addr=$(lower "${entry%%:*}")
	pass=${entry#*:}
	case $addr in
	?*@?*) ;;
	*) die "MAIL_USERS: $addr is not an address" ;;
	esac
	case $addr in
	*[!a-z0-9.@_=-]* | *@*@* | *+*) die "MAIL_USERS: $addr: use letters, digits and . _ = - only (+ is the detail delimiter)" ;;
	esac
	[ -n "$pass" ] || die "MAIL_USERS: $addr has an empty password"
	case $pass in
	*:*) die "MAIL_USERS: the password of $addr contains a colon" ;;
	esac
	case " $domains " in
	*" ${addr#*@} "*) ;;
	*) die "MAIL_USERS: $addr is not in MAIL_DOMAINS ($domains)" ;;
	esac
	users_file_content="$users_file_content$addr:{PLAIN}$pass::::::
"
	count=$((count + 1))
done

for u in mail postfix dovecot dovenull; do
	id "$u" >/dev/null 2>&1 || die "system user $u is missing (packages dovecot-imapd, dovecot-lmtpd, postfix)"
done
mail_uid=$(id -u mail)
mail_gid=$(id -g mail)
daemon_directory=$(postconf -dh daemon_directory)
[ -x "$daemon_directory/master" ] || die "Postfix's master is not in $daemon_directory"

if [ "$MAIL_LISTEN" = 0.0.0.0 ]; then
	dovecot_listen='*'
	postfix_interfaces=all
else
	dovecot_listen=$MAIL_LISTEN
	postfix_interfaces=$MAIL_LISTEN
fi

# --- directories ---------------------------------------------------------------

# State survives restarts (mailboxes, queued mail); MAIL_CONF is rewritten.
# Postfix and Dovecot drop privileges, so every parent must be searchable.
mkdir -p "$MAIL_STATE/mail" "$MAIL_STATE/dovecot" "$MAIL_STATE/postfix/queue" "$MAIL_STATE/postfix/data" \
	"$MAIL_CONF/postfix" "$MAIL_CONF/dovecot/run"
chmod 0755 "$MAIL_STATE" "$MAIL_CONF" "$MAIL_CONF/postfix" "$MAIL_CONF/dovecot"
chown "$mail_uid:$mail_gid" "$MAIL_STATE/mail"
chown postfix "$MAIL_STATE/postfix/data"
# A pid file from a container that was killed would stop Dovecot from starting.
rm -f "$MAIL_CONF/dovecot/run/master.pid"

dovecot_conf=$MAIL_CONF/dovecot/dovecot.conf
users_file=$MAIL_CONF/dovecot/users
lmtp_socket=$MAIL_CONF/dovecot/run/lmtp
postfix_conf=$MAIL_CONF/postfix

# --- Dovecot -------------------------------------------------------------------

umask 022
printf '%s' "$users_file_content" >"$users_file.tmp"
chmod 0640 "$users_file.tmp"
chgrp dovecot "$users_file.tmp"
mv "$users_file.tmp" "$users_file"

cat >"$dovecot_conf" <<CONF
# Generated by $0; rewritten at every start.
instance_name = helpdesk-mail
base_dir = $MAIL_CONF/dovecot/run
state_dir = $MAIL_STATE/dovecot
log_path = /dev/stdout
protocols = imap lmtp
listen = $dovecot_listen
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# No delay after a failed login, and no per-IP auth penalty (below).
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_uid = $mail_uid
mail_gid = $mail_gid
first_valid_uid = $mail_uid
first_valid_gid = $mail_gid
default_internal_user = dovecot
default_login_user = dovenull
hostname = $MAIL_HOSTNAME
postmaster_address = postmaster@$first_domain
# support+anything@ is support's INBOX.
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
verbose_proctitle = no
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $users_file
}
userdb {
  driver = passwd-file
  args = username_format=%u $users_file
  default_fields = uid=$mail_uid gid=$mail_gid home=$MAIL_STATE/mail/%d/%n
}
service imap-login {
  inet_listener imap {
    address = $dovecot_listen
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
CONF

# --- Postfix -------------------------------------------------------------------

cat >"$postfix_conf/main.cf" <<CONF
# Generated by $0; rewritten at every start.
compatibility_level = 3.6
queue_directory = $MAIL_STATE/postfix/queue
data_directory = $MAIL_STATE/postfix/data
maillog_file = /dev/stdout
myhostname = $MAIL_HOSTNAME
mydomain = $first_domain
myorigin = \$myhostname
mydestination =
inet_interfaces = $postfix_interfaces
inet_protocols = ipv4
mynetworks = $MAIL_NETWORKS
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
# Every address in the virtual domains is accepted; Dovecot refuses unknown
# users at delivery and Postfix bounces the mail to its envelope sender.
smtpd_reject_unlisted_recipient = no
virtual_mailbox_domains = $domains
virtual_mailbox_maps =
virtual_transport = lmtp:unix:$lmtp_socket
# support+<token>@ (replies) and support+bounce-...@ (helpdesk's VERP
# envelope sender: bounces, autoresponders) reach support's INBOX.
recipient_delimiter = +
local_recipient_maps =
alias_maps =
alias_database =
# Nothing leaves: mail to any other domain bounces.
default_transport = error:5.7.1 this development server delivers only to $domains
relay_transport = error:5.7.1 this development server delivers only to $domains
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
biff = no
in_flow_delay = 0
delay_warning_time = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 10s
smtputf8_enable = no
CONF

cat >"$postfix_conf/master.cf" <<CONF
# Generated by $0; rewritten at every start.
$SMTP_PORT inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
CONF

# Creates the queue's subdirectories with their owners and modes.
postfix -c "$postfix_conf" check || die "postfix check failed"

# --- run both in the foreground -------------------------------------------------

dovecot_pid=
postfix_pid=
sleep_pid=

stop() {
	trap - INT TERM
	say "stopping"
	for p in $postfix_pid $dovecot_pid $sleep_pid; do
		kill -TERM "$p" 2>/dev/null || :
	done
	for p in $postfix_pid $dovecot_pid; do
		wait "$p" 2>/dev/null || :
	done
	exit "$1"
}
trap 'stop 0' INT TERM

dovecot -F -c "$dovecot_conf" &
dovecot_pid=$!
# What "postfix start-fg" runs: master stays in the foreground and keeps stdout
# for maillog_file. (With -d, it could not stop its children on SIGTERM.)
"$daemon_directory/master" -s -c "$postfix_conf" &
postfix_pid=$!

say "started: $count users in $domains; SMTP $MAIL_LISTEN:$SMTP_PORT, IMAP $MAIL_LISTEN:$IMAP_PORT, state $MAIL_STATE"

# Wake up at least every second to notice a daemon that died; waiting on a
# background sleep lets the trap run as soon as a signal arrives.
while kill -0 "$dovecot_pid" 2>/dev/null && kill -0 "$postfix_pid" 2>/dev/null; do
	sleep 1 &
	sleep_pid=$!
	wait "$sleep_pid" || :
	sleep_pid=
done
say "a daemon exited on its own"
stop 1
