import NIOCore
import NIOExtras

/// A TCP connection carrying one JSON message per line: inbound frames are lines without
/// their newline; outbound buffers are written as they are.
public typealias LineChannel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

/// Sets up line framing on new channels, for the daemon and the client alike.
public enum LineFraming {
    /// Adds a line decoder to `channel` and wraps it for async use. A partial line longer than
    /// `maximumLine` fails the inbound stream with `ByteToMessageDecoderError.PayloadTooLargeError`;
    /// complete lines must still be checked against the limit by the reader.
    /// `deadlines`, when given, goes in front of the decoder.
    public static func wrap(_ channel: any Channel, maximumLine: Int, deadlines: ConnectionDeadlines? = nil) throws
        -> LineChannel
    {
        if let deadlines { try channel.pipeline.syncOperations.addHandler(deadlines) }
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: maximumLine + 2))
        return try LineChannel(
            wrappingChannelSynchronously: channel,
            configuration: .init(inboundType: ByteBuffer.self, outboundType: ByteBuffer.self))
    }
}
