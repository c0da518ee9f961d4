-- Samverka's part of Jitsi's Prosody. Loaded after Jitsi's own host file, from conf.d/:
--   - the bundle mounts it as /config/conf.d/samverka.cfg.lua in the prosody container, where it
--     applies as it is (docker-jitsi-meet's default names: meet.jitsi, muc.meet.jitsi, hidden.meet.jitsi);
--   - on Debian, `configure-jitsi.sh prosody-cfg` (run by install.sh) writes it to /etc/prosody/conf.d/
--     with conference.<Jitsi domain> and hidden.<Jitsi domain>, and without the `admins` line below:
--     Jitsi's own file sets admins on the same component there, and Prosody includes conf.d in
--     directory order, so two lists would replace each other. The appliance is added to Jitsi's list.
-- It loads no Jitsi module: it adds the appliance's host and tightens the room service with
-- Prosody's own options, reopening the sections Jitsi declares (Prosody merges them), so it also
-- loads on a plain Prosody.

-- The hidden domain: Jitsi's clients hide its occupants (config.js hiddenDomain), so the appliance
-- observes rooms without appearing among the participants. Its one account is the appliance's:
--   bundle: Prosody's start creates it (JIBRI_RECORDER_USER/PASSWORD in compose.yaml)
--   Debian: prosodyctl register samverka hidden.<Jitsi domain> "$XMPP_PASSWORD" (install.sh)
VirtualHost "hidden.meet.jitsi"
    authentication = "internal_hashed"
    -- Nobody registers here from outside; the account above is the only one.
    allow_registration = false
    -- The appliance reaches this host only inside the server: over loopback (Debian, port 5222 closed
    -- in the firewall) or the bundle's private network. No STARTTLS with a certificate that is not
    -- this domain's (it would fail), and plain login there.
    modules_disabled = { "tls" }
    c2s_require_encryption = false
    allow_unencrypted_plain_auth = true

-- Jitsi's conference rooms: the same component Jitsi declares.
Component "muc.meet.jitsi" "muc"
    -- Only admins create rooms: Jicofo, for a participant with a valid token, and the appliance.
    -- Nobody opens a room of their own.
    restrict_room_creation = true
    -- Room owner rights for the appliance: configure, remove a participant, end the meeting for all.
    admins = { "samverka@hidden.meet.jitsi" }
    -- Rooms live as long as the meeting; nothing about them is kept after it ends.
    muc_room_default_persistent = false
    muc_room_allow_persistent = false
    muc_tombstones = false
    -- Chat history would reach people who join later: care meetings keep none.
    max_history_messages = 0
    muc_room_default_history_length = 0
