import { describe, expect, it } from 'vitest';
import { DOCUMENT_CHECKS, DOCUMENT_KINDS, isDocumentKind, readDocument } from '../../common/config-documents.ts';

describe('configuration documents', () => {
  it('has one schema per stored kind, and reads a stored document typed or not at all', () => {
    expect([...DOCUMENT_KINDS].sort()).toEqual(['emergency', 'external-systems', 'logging', 'origination', 'proxy', 'streaming', 'termination', 'termination-health']);
    expect(isDocumentKind('termination')).toBe(true);
    expect(isDocumentKind('toString')).toBe(false);
    const t = readDocument('termination', JSON.stringify({ CpsLimit: 2, CallingRegions: ['US'], CidrAllowedList: ['10.0.0.0/8'] }));
    expect(t?.CallingRegions).toEqual(['US']);
    // Not JSON, the wrong shape, a bad CIDR: left out rather than read half-right.
    expect(readDocument('termination', '{')).toBeUndefined();
    expect(readDocument('termination', JSON.stringify({ CpsLimit: 2 }))).toBeUndefined();
    expect(readDocument('termination', JSON.stringify({ CallingRegions: ['US'], CidrAllowedList: ['10.0.0.0/33'] }))).toBeUndefined();
    expect(readDocument('origination', JSON.stringify({ Routes: [{ Host: '192.0.2.1', Port: 5060, Protocol: 'UDP' }] }))?.Routes?.[0]?.Port).toBe(5060);
    expect(readDocument('origination', JSON.stringify({ Routes: [{ Host: '192.0.2.1', Protocol: 'TLS' }] }))).toBeUndefined();
    expect(DOCUMENT_CHECKS.streaming({ DataRetentionInHours: 0, Disabled: false, StreamingNotificationTargets: [{ NotificationTarget: 'SNS' }] })).toBe(true);
    expect(DOCUMENT_CHECKS.streaming({ DataRetentionInHours: 0, Disabled: false, StreamingNotificationTargets: [{ NotificationTarget: 'Fax' }] })).toBe(false);
    expect(DOCUMENT_CHECKS.proxy({ DefaultSessionExpiryMinutes: 5, PhoneNumberCountries: ['US'] })).toBe(true);
  });
});
