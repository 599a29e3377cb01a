/** Messages of every primitive, shared by the codec and tshark tests. */
import { ATTR, REQUEST_STATUS } from '../../../signaling/bfcp/attributes.ts';
import { ERROR_CODE, PRIMITIVE } from '../../../signaling/bfcp/common-header.ts';
import { errorCodeAttr, groupAttr, listAttr, type OutgoingMessage, priorityAttr, requestStatusAttr, textAttr, u16Attr } from '../../../signaling/bfcp/messages.ts';

export const base = { version: 2 as const, responder: false, conferenceId: 0x01020304, transactionId: 0x0506, userId: 0x0708 };

/** One message of every primitive, each with the attributes its grammar names (and then some). */
export const CORPUS: readonly OutgoingMessage[] = [
  { ...base, primitive: PRIMITIVE.FloorRequest, attributes: [u16Attr(ATTR.FloorId, 1), u16Attr(ATTR.BeneficiaryId, 7), textAttr(ATTR.ParticipantProvidedInfo, 'slides please'), priorityAttr(4)] },
  { ...base, primitive: PRIMITIVE.FloorRelease, attributes: [u16Attr(ATTR.FloorRequestId, 42)] },
  { ...base, primitive: PRIMITIVE.FloorRequestQuery, attributes: [u16Attr(ATTR.FloorRequestId, 42)] },
  {
    ...base,
    primitive: PRIMITIVE.FloorRequestStatus,
    attributes: [
      groupAttr(ATTR.FloorRequestInformation, 42, [
        groupAttr(ATTR.OverallRequestStatus, 42, [requestStatusAttr(REQUEST_STATUS.Accepted, 2), textAttr(ATTR.StatusInfo, 'queued')]),
        groupAttr(ATTR.FloorRequestStatus, 1, [requestStatusAttr(REQUEST_STATUS.Accepted, 2)]),
        groupAttr(ATTR.BeneficiaryInformation, 7, [textAttr(ATTR.UserDisplayName, 'Salle 4'), textAttr(ATTR.UserUri, 'sip:room@192.0.2.10')]),
        groupAttr(ATTR.RequestedByInformation, 7, []),
        priorityAttr(2),
      ]),
    ],
  },
  { ...base, primitive: PRIMITIVE.UserQuery, attributes: [u16Attr(ATTR.BeneficiaryId, 7)] },
  { ...base, primitive: PRIMITIVE.UserStatus, attributes: [groupAttr(ATTR.BeneficiaryInformation, 7, [textAttr(ATTR.UserDisplayName, 'Room')])] },
  { ...base, primitive: PRIMITIVE.FloorQuery, attributes: [u16Attr(ATTR.FloorId, 1), u16Attr(ATTR.FloorId, 2)] },
  { ...base, primitive: PRIMITIVE.FloorStatus, attributes: [u16Attr(ATTR.FloorId, 1)] },
  {
    ...base,
    primitive: PRIMITIVE.ChairAction,
    attributes: [groupAttr(ATTR.FloorRequestInformation, 9, [groupAttr(ATTR.FloorRequestStatus, 1, [requestStatusAttr(REQUEST_STATUS.Granted)])])],
  },
  { ...base, primitive: PRIMITIVE.ChairActionAck, attributes: [] },
  { ...base, primitive: PRIMITIVE.Hello, attributes: [] },
  { ...base, primitive: PRIMITIVE.HelloAck, attributes: [listAttr(ATTR.SupportedPrimitives, [1, 2, 3, 11, 12]), listAttr(ATTR.SupportedAttributes, [1, 2, 3, 18])] },
  { ...base, primitive: PRIMITIVE.Error, attributes: [errorCodeAttr(ERROR_CODE.UnknownMandatoryAttribute, [100, 101, 127]), textAttr(ATTR.ErrorInfo, 'unknown')] },
  { ...base, primitive: PRIMITIVE.FloorRequestStatusAck, attributes: [] },
  { ...base, primitive: PRIMITIVE.FloorStatusAck, attributes: [] },
  { ...base, primitive: PRIMITIVE.Goodbye, attributes: [] },
  { ...base, primitive: PRIMITIVE.GoodbyeAck, attributes: [] },
];

