import NIOCore

/// Closes a connection that takes too long, as a handler in front of the line decoder: no
/// `hello` within `hello` of opening (pings do not extend it), nothing received or answered
/// for `idle` once greeted, or a line begun and not ended within `line` (bytes trickling in
/// without a newline). On expiry it asks `farewell` for a last line to send, sends it and
/// closes the channel.
public final class ConnectionDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// The time limits.
    public struct Limits: Sendable, Hashable {
        public var hello: TimeAmount
        public var idle: TimeAmount
        public var line: TimeAmount

        public init(hello: TimeAmount, idle: TimeAmount, line: TimeAmount) {
            self.hello = hello
            self.idle = idle
            self.line = line
        }
    }

    /// Which limit ran out.
    public enum Expiry: Sendable, Hashable {
        case hello
        case idle
        case line
    }

    /// Outbound user events the connection's owner sends (`channel.triggerUserOutboundEvent`).
    public enum Event: Sendable, Hashable {
        /// The client said hello: the hello limit no longer applies, the idle one does.
        case greeted
        /// A request was answered: the idle time starts again.
        case answered
    }

    private let limits: Limits
    private let farewell: @Sendable (Expiry) -> ByteBuffer?
    private var greeted = false
    private var lineStarted = false
    private var helloTimer: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?
    private var lineTimer: Scheduled<Void>?
    private var expired = false

    public init(limits: Limits, farewell: @escaping @Sendable (Expiry) -> ByteBuffer?) {
        self.limits = limits
        self.farewell = farewell
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        helloTimer = schedule(.hello, after: limits.hello, context: context)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        for timer in [helloTimer, idleTimer, lineTimer] { timer?.cancel() }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if let lastNewline = bytes.readableBytesView.lastIndex(of: UInt8(ascii: "\n")) {
            if greeted { restartIdle(context: context) }
            // A line ended; whatever follows it begins the next one now.
            lineTimer?.cancel()
            lineTimer = nil
            lineStarted = lastNewline + 1 < bytes.writerIndex
        } else if bytes.readableBytes > 0 {
            lineStarted = true
        }
        if lineStarted && lineTimer == nil {
            lineTimer = schedule(.line, after: limits.line, context: context)
        }
        context.fireChannelRead(data)
    }

    public func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? Event else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch event {
        case .greeted:
            greeted = true
            helloTimer?.cancel()
            helloTimer = nil
            restartIdle(context: context)
        case .answered:
            if greeted { restartIdle(context: context) }
        }
        promise?.succeed()
    }

    private func restartIdle(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        idleTimer = schedule(.idle, after: limits.idle, context: context)
    }

    private func schedule(_ expiry: Expiry, after delay: TimeAmount, context: ChannelHandlerContext) -> Scheduled<
        Void
    > {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        return context.eventLoop.scheduleTask(in: delay) {
            let (handler, context) = loopBound.value
            handler.expire(expiry, context: context)
        }
    }

    private func expire(_ expiry: Expiry, context: ChannelHandlerContext) {
        guard !expired else { return }
        expired = true
        let channel = context.channel
        guard let line = farewell(expiry) else {
            channel.close(promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(line)).whenComplete { _ in channel.close(promise: nil) }
    }
}
