/// `HTTPDate` (Sources/HTTP1/HTTPDate.swift) is part of this module's API: the signed date header is an HTTP-date.
@_exported import enum HTTP1.HTTPDate
