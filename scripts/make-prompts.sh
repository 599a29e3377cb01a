#!/usr/bin/env bash
# Generates Carillon's IVR prompts once, into media/prompts/<lang>/<name>.wav (speech, espeak-ng)
# and media/prompts/tones/<name>.wav (join/leave tones and hold music, sox synth): 8 kHz 16-bit
# mono PCM WAV. The files are committed; nothing is generated or fetched at run time.
# Needs espeak-ng and sox (scripts/install-test-peers.sh --prompts). Deterministic: fixed voices,
# speed, pitch, amplitude and word gap; sox runs without dither (-D) and the WAV header is
# rewritten to the canonical 44 bytes, so the same tools give the same bytes.
# The texts here are the source of media/prompts/README.md's table; keep the two together.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=media/prompts
RATE=8000
SPEED=170   # words per minute
PITCH=45
AMPLITUDE=120
GAP=0       # extra gap between words, units of 10 ms

for tool in espeak-ng sox python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "make-prompts: $tool is missing (scripts/install-test-peers.sh --prompts)" >&2; exit 1; }
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Rewrites a WAV to exactly RIFF/fmt(16)/data, dropping any other chunk (LIST, fact).
canonical() {
  python3 - "$1" <<'PY'
import struct, sys
path = sys.argv[1]
raw = open(path, 'rb').read()
assert raw[:4] == b'RIFF' and raw[8:12] == b'WAVE', path
pos, fmt, data = 12, None, None
while pos + 8 <= len(raw):
    cid, size = raw[pos:pos + 4], struct.unpack('<I', raw[pos + 4:pos + 8])[0]
    body = raw[pos + 8:pos + 8 + size]
    if cid == b'fmt ': fmt = body[:16]
    elif cid == b'data': data = body
    pos += 8 + size + (size & 1)
assert fmt is not None and data is not None, path
tag, channels, rate, _, _, bits = struct.unpack('<HHIIHH', fmt)
assert (tag, channels, rate, bits) == (1, 1, 8000, 16), (path, tag, channels, rate, bits)
out = b'RIFF' + struct.pack('<I', 36 + len(data)) + b'WAVE' + b'fmt ' + struct.pack('<I', 16) + fmt + b'data' + struct.pack('<I', len(data)) + data
open(path, 'wb').write(out)
PY
}

# speak <voice> <out.wav> <text> [tail pad seconds]
speak() {
  local voice=$1 out=$2 text=$3 pad=${4:-0.1}
  espeak-ng -v "$voice" -s "$SPEED" -p "$PITCH" -a "$AMPLITUDE" -g "$GAP" -w "$TMP/raw.wav" -- "$text"
  # Phone band, trimmed of leading and trailing silence, peak at -3 dBFS, a short tail.
  sox -D "$TMP/raw.wav" -r "$RATE" -b 16 -c 1 -e signed-integer "$out" \
    gain -6 highpass 200 lowpass 3400 \
    silence 1 0.02 0.3% reverse silence 1 0.02 0.3% reverse \
    norm -3 pad 0 "$pad"
  canonical "$out"
}

# ---- language-neutral audio ----
mkdir -p "$OUT/tones"
# Join: a rising two-note chime; leave: the same falling.
note() { # <out> <seconds> <hz>
  sox -D -n -r "$RATE" -b 16 -c 1 -e signed-integer "$1" synth "$2" sine "$3" fade q 0.01 "$2" 0.04 gain -12
}
note "$TMP/lo.wav" 0.12 660
note "$TMP/hi.wav" 0.18 880
note "$TMP/hi-short.wav" 0.12 880
note "$TMP/lo-long.wav" 0.18 660
sox -D "$TMP/lo.wav" "$TMP/hi.wav" "$OUT/tones/join.wav"
sox -D "$TMP/hi-short.wav" "$TMP/lo-long.wav" "$OUT/tones/leave.wav"
canonical "$OUT/tones/join.wav"
canonical "$OUT/tones/leave.wav"
# Hold: a soft chord loop, 10 s (four 2.5 s chords, each faded in and out so the loop is seamless).
chord() { # <out> <f1> <f2> <f3>
  sox -D -n -r "$RATE" -b 16 -c 1 -e signed-integer "$1" synth 2.5 sine "$2" sine "$3" sine "$4" remix - fade h 0.6 2.5 0.6 gain -20
}
chord "$TMP/c1.wav" 261.63 329.63 392.00   # C major
chord "$TMP/c2.wav" 220.00 261.63 329.63   # A minor
chord "$TMP/c3.wav" 174.61 220.00 261.63   # F major
chord "$TMP/c4.wav" 196.00 246.94 293.66   # G major
sox -D "$TMP/c1.wav" "$TMP/c2.wav" "$TMP/c3.wav" "$TMP/c4.wav" -r "$RATE" -b 16 -c 1 -e signed-integer "$OUT/tones/hold.wav" lowpass 1500
canonical "$OUT/tones/hold.wav"

# ---- speech ----
# prompt <lang> <voice> <name> <text>
prompt() {
  mkdir -p "$OUT/$1"
  speak "$2" "$OUT/$1/$3.wav" "$4"
}
# number words are short and joined at run time: a small tail only
word() {
  mkdir -p "$OUT/$1"
  speak "$2" "$OUT/$1/$3.wav" "$4" 0.05
}

L=en-US V=en-us
prompt $L $V welcome "Welcome to Carillon meetings."
prompt $L $V enter-meeting-id "Please enter your meeting ID, followed by the pound key."
prompt $L $V invalid-meeting-id "That meeting ID is not valid. Please try again."
prompt $L $V goodbye "Thank you for calling. Goodbye."
prompt $L $V meeting-locked-refused "This meeting is locked. You cannot join it now. Goodbye."
prompt $L $V joining "You are joining the meeting."
prompt $L $V waiting-for-host "Please wait. The meeting will start when the host or a moderator joins."
prompt $L $V moderator "You are now a moderator."
prompt $L $V muted "You are muted."
prompt $L $V unmuted "You are unmuted."
prompt $L $V all-others-muted "All other participants are muted."
prompt $L $V locked "The meeting is now locked."
prompt $L $V unlocked "The meeting is now unlocked."
prompt $L $V end-confirm "To end the meeting for everyone, press 1."
prompt $L $V meeting-ending "The meeting is ending. Goodbye."
prompt $L $V recording-started "Recording has started."
prompt $L $V recording-stopped "Recording has stopped."
prompt $L $V count-one "There is one participant in the meeting."
prompt $L $V count-before "There are"
prompt $L $V count-after "participants in the meeting."
prompt $L $V help "Meeting keys. Star 6: mute or unmute yourself. For moderators: star 7: mute everyone else. Star 5: lock or unlock the meeting. Star 8, then 1: end the meeting for all. Star 9: start or stop recording. Star pound: the number of participants. Star star: this help."
EN_WORDS=(zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen)
for n in "${!EN_WORDS[@]}"; do word $L $V "number-$n" "${EN_WORDS[$n]}"; done
EN_TENS=([2]=twenty [3]=thirty [4]=forty [5]=fifty [6]=sixty [7]=seventy [8]=eighty [9]=ninety)
for t in "${!EN_TENS[@]}"; do word $L $V "number-${t}0" "${EN_TENS[$t]}"; done
word $L $V number-hundred "hundred"

L=pt-BR V=pt-br
prompt $L $V welcome "Boas-vindas às reuniões Carillon."
prompt $L $V enter-meeting-id "Digite o número da reunião, seguido da tecla jogo da velha."
prompt $L $V invalid-meeting-id "Número de reunião inválido. Tente novamente."
prompt $L $V goodbye "Obrigado pela ligação. Até logo."
prompt $L $V meeting-locked-refused "Esta reunião está bloqueada. Não é possível entrar agora. Até logo."
prompt $L $V joining "Você está entrando na reunião."
prompt $L $V waiting-for-host "Por favor, aguarde. A reunião vai começar quando o organizador ou um moderador entrar."
prompt $L $V moderator "Agora você é moderador."
prompt $L $V muted "Seu microfone foi desativado."
prompt $L $V unmuted "Seu microfone foi ativado."
prompt $L $V all-others-muted "Os microfones de todos os outros participantes foram desativados."
prompt $L $V locked "A reunião foi bloqueada."
prompt $L $V unlocked "A reunião foi desbloqueada."
prompt $L $V end-confirm "Para encerrar a reunião para todos, digite 1."
prompt $L $V meeting-ending "A reunião está sendo encerrada. Até logo."
prompt $L $V recording-started "A gravação foi iniciada."
prompt $L $V recording-stopped "A gravação foi interrompida."
prompt $L $V count-one "Há um participante na reunião."
prompt $L $V count-before "Há"
prompt $L $V count-after "participantes na reunião."
prompt $L $V help "Teclas da reunião. Asterisco 6: liga ou desliga o seu microfone. Para moderadores: asterisco 7: silencia todos os outros. Asterisco 5: bloqueia ou desbloqueia a reunião. Asterisco 8 e depois 1: encerra a reunião para todos. Asterisco 9: inicia ou interrompe a gravação. Asterisco e jogo da velha: o número de participantes. Asterisco duas vezes: esta ajuda."
PT_WORDS=(zero um dois três quatro cinco seis sete oito nove dez onze doze treze catorze quinze dezesseis dezessete dezoito dezenove)
for n in "${!PT_WORDS[@]}"; do word $L $V "number-$n" "${PT_WORDS[$n]}"; done
PT_TENS=([2]=vinte [3]=trinta [4]=quarenta [5]=cinquenta [6]=sessenta [7]=setenta [8]=oitenta [9]=noventa)
for t in "${!PT_TENS[@]}"; do word $L $V "number-${t}0" "${PT_TENS[$t]}"; done
word $L $V number-100 "cem"
word $L $V number-cento "cento"
word $L $V number-200 "duzentos"
word $L $V number-and "e"

du -sh "$OUT" | sed 's/^/make-prompts: /'
