import Type from 'typebox';
import type { Static } from 'typebox';
import { E164Number, Str } from '../chime/schema.ts';

/** The Chime SDK Meetings API's request shapes (reference docs/reference/chime-sdk-meetings-api.md §2). */

/** Regions CreateMeeting accepts as MediaRegion (reference §2.1). */
export const MEDIA_REGIONS: readonly string[] = [
  'af-south-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2', 'ca-central-1',
  'eu-central-1', 'eu-north-1', 'eu-south-1', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'il-central-1', 'sa-east-1',
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'us-gov-east-1', 'us-gov-west-1',
];

export const UUID_PATTERN = '^[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}$';
const TOKEN_PATTERN = '^[-_a-zA-Z0-9]*$';
/** Chime's default (and Chime Pro's) attendee limit per meeting. */
export const DEFAULT_MAX_ATTENDEES = 250;

const Capability = Type.Enum(['SendReceive', 'Send', 'Receive', 'None']);
export const Capabilities = Type.Object({ Audio: Capability, Video: Capability, Content: Capability });
export type CapabilitiesT = Static<typeof Capabilities>;

/** ExternalUserId / ExternalMeetingId characters (reference §2.2); values beginning `aws:` are reserved. */
export const EXTERNAL_ID_PATTERN = "^(?!aws:)[-_&@+=,(){}\\[\\]\\/«».:|'\"#a-zA-Z0-9À-ÿ\\s]*$";
const ExternalUserId = Str(2, 64, EXTERNAL_ID_PATTERN);
export const AttendeeItem = Type.Object({ ExternalUserId, Capabilities: Type.Optional(Capabilities) });
export type AttendeeItemT = Static<typeof AttendeeItem>;

export const MeetingFeatures = Type.Object({
  Audio: Type.Optional(Type.Object({ EchoReduction: Type.Optional(Type.Enum(['AVAILABLE', 'UNAVAILABLE'])) })),
  Video: Type.Optional(Type.Object({ MaxResolution: Type.Optional(Type.Enum(['None', 'HD', 'FHD'])) })),
  Content: Type.Optional(Type.Object({ MaxResolution: Type.Optional(Type.Enum(['None', 'FHD', 'UHD'])) })),
  Attendee: Type.Optional(Type.Object({ MaxCount: Type.Optional(Type.Integer({ minimum: 1, maximum: DEFAULT_MAX_ATTENDEES })) })),
});
export type MeetingFeaturesT = Static<typeof MeetingFeatures>;

const MeetingTags = Type.Array(Type.Object({ Key: Str(1, 128), Value: Str(0, 256) }), { minItems: 1, maxItems: 50 });

const meetingMembers = {
  ClientRequestToken: Type.Optional(Str(2, 64, TOKEN_PATTERN)),
  MediaRegion: Str(2, 64),
  MeetingHostId: Type.Optional(ExternalUserId),
  ExternalMeetingId: Str(2, 64, EXTERNAL_ID_PATTERN),
  NotificationsConfiguration: Type.Optional(Type.Object({ LambdaFunctionArn: Type.Optional(Str(1, 2048)), SnsTopicArn: Type.Optional(Str(1, 2048)), SqsQueueArn: Type.Optional(Str(1, 2048)) })),
  MeetingFeatures: Type.Optional(MeetingFeatures),
  PrimaryMeetingId: Type.Optional(Str(2, 64)),
  TenantIds: Type.Optional(Type.Array(Str(2, 256), { minItems: 1, maxItems: 5 })),
  Tags: Type.Optional(MeetingTags),
  MediaPlacementNetworkType: Type.Optional(Type.Enum(['Ipv4Only', 'DualStack'])),
};
export const CreateMeeting = Type.Object(meetingMembers);
export type CreateMeetingT = Static<typeof CreateMeeting>;
export const CreateMeetingWithAttendees = Type.Object({ ...meetingMembers, Attendees: Type.Array(AttendeeItem, { minItems: 1, maxItems: 10 }) });
export const BatchCreateAttendee = Type.Object({ Attendees: Type.Array(AttendeeItem, { minItems: 1, maxItems: 100 }) });
export const CreateAttendee = AttendeeItem;
export const UpdateCapabilities = Type.Object({ Capabilities });
export const BatchUpdateExcept = Type.Object({ ExcludedAttendeeIds: Type.Array(Type.Object({ AttendeeId: Str(36, 36, UUID_PATTERN) }), { minItems: 1, maxItems: 250 }), Capabilities });

export const MeetingLabel = Type.Object({ meetingId: Str(36, 36, UUID_PATTERN) });
export const AttendeeLabels = Type.Object({ meetingId: Str(36, 36, UUID_PATTERN), attendeeId: Str(36, 36, UUID_PATTERN) });

// Carillon's additions (reference §5).

/** Prompt languages the IVR ships (issue: en-US and pt-BR). */
export const PROMPT_LANGUAGES = ['en-US', 'pt-BR'] as const;
export type PromptLanguage = (typeof PROMPT_LANGUAGES)[number];
/** The language prompts play in when neither the meeting nor its account names one. */
export const DEFAULT_PROMPT_LANGUAGE: PromptLanguage = 'en-US';
/** Fewest and most dial-in participants a meeting may be set to (Chime Pro's 250 is the default). */
export const MIN_PARTICIPANTS = 2;
export const DEFAULT_MAX_PARTICIPANTS = 250;

export const PASSCODE_PATTERN = '^[0-9]{4,8}$';
const Language = Type.Union([Type.Enum([...PROMPT_LANGUAGES]), Type.Null()], { description: 'en-US or pt-BR; null: the account\'s (else the server\'s) default' });

/** PATCH …/settings: every member optional, null clears the passcode or the language. */
export const MeetingSettings = Type.Object({
  Moderated: Type.Optional(Type.Boolean()),
  ModeratorPasscode: Type.Optional(Type.Union([Str(4, 8, PASSCODE_PATTERN), Type.Null()], { description: '4–8 digits, or null for none' })),
  MaxParticipants: Type.Optional(Type.Integer({ minimum: MIN_PARTICIPANTS, maximum: DEFAULT_MAX_PARTICIPANTS })),
  Language: Type.Optional(Language),
  JoinTones: Type.Optional(Type.Boolean()),
});
export type MeetingSettingsT = Static<typeof MeetingSettings>;

export const AccountMeetingSettings = Type.Object({ Language });

/** A meeting in a Carillon route: an SDK MeetingId, or a user's personal room `personal:<UserId>`. */
export const PERSONAL_PREFIX = 'personal:';
const UUID_BODY = UUID_PATTERN.slice(1, -1);
export const CARILLON_MEETING_PATTERN = `^(?:${UUID_BODY}|${PERSONAL_PREFIX}${UUID_BODY})$`;
export const CarillonMeetingLabel = Type.Object({ meetingId: Str(36, 36 + PERSONAL_PREFIX.length, CARILLON_MEETING_PATTERN) });
/** Participant ids are the call layer's (opaque, bounded). */
export const ParticipantLabels = Type.Object({ meetingId: CarillonMeetingLabel.properties.meetingId, participantId: Str(1, 128, '^[-_.:a-zA-Z0-9]+$') });

export const MuteParticipant = Type.Object({ Muted: Type.Boolean() });
export const MuteAllOthers = Type.Object({ ExceptParticipantId: Type.Optional(Str(1, 128, '^[-_.:a-zA-Z0-9]+$')) });
export const LockMeeting = Type.Object({ Locked: Type.Boolean() });

/** Chime's E164PhoneNumber (the `+` optional); stored and dialed with it. */
const PhoneNumber = E164Number;
/** The legacy API's CreateMeetingDialOut body (reference §6): every member required. */
export const CreateMeetingDialOut = Type.Object({ FromPhoneNumber: PhoneNumber, ToPhoneNumber: PhoneNumber, JoinToken: Str(2, 2048, '^[a-zA-Z0-9+/]+$') });
/** Carillon's dial-out: no join token (the admin's key is enough); the caller ID is optional. */
export const CarillonDialOut = Type.Object({ ToPhoneNumber: PhoneNumber, FromPhoneNumber: Type.Optional(PhoneNumber) });

export const DialInNumber = Type.Object({ E164PhoneNumber: PhoneNumber });
/** The path label arrives decoded (`%2B` → `+`). */
export const DialInNumberLabel = Type.Object({ e164: E164Number });
