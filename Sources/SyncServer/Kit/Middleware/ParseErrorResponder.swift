import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import SyncModel
import SyncWire

/// Answers a request NIO's HTTP/1.1 parser cannot parse (a malformed request line or header
/// line, headers over the decoder's limits) with our JSON error, `400 bad_request`, and closes
/// the connection. Without it, Hummingbird's HTTP/1 channel answers such a request itself with
/// an empty 400, before any route or middleware. Sits in the channel pipeline after the HTTP
/// codec (`HTTP1Channel.Configuration.additionalChannelHandlers`).
///
/// Only when no request is in flight on the connection: a parse error inside a request's body
/// goes on to that request, whose route answers it (`incomplete_body` for a push).
final class ParseErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let metrics: ServerMetrics
    let logger: Logger
    /// Request heads read whose response has not ended yet.
    private var inFlight = 0
    private var answered = false

    init(metrics: ServerMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { inFlight += 1 }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { inFlight = max(0, inFlight - 1) }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parse = error as? HTTPParserError, inFlight == 0 else { return context.fireErrorCaught(error) }
        guard !answered else { return }
        answered = true
        let reason =
            switch parse {
            case .headerOverflow: "the request's headers are over the server's limits"
            default: "the request is not valid HTTP/1.1 (\(parse)); the connection is closed"
            }
        let body =
            (try? JSONEncoder().encode(SyncAPI.ErrorBody(error: SyncAPI.ErrorCode.badRequest.rawValue, reason: reason)))
            .map { ByteBuffer(bytes: $0) } ?? ByteBuffer()
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(body.readableBytes)
        fields[.connection] = "close"
        let requestID = randomHex(8)
        fields[.requestID] = requestID
        metrics.rejection(.badRequest)
        metrics.request(route: "unparsed", method: "-", status: 400)
        logger.info(
            "request", metadata: ["request_id": .string(requestID), "status": "400", "error": "bad_request", "parse_error": "\(parse)"])
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .badRequest, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
