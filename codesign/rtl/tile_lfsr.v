`timescale 1ns/1ps
`default_nettype none
// One Galois LFSR, right-shifting:  lsb = s & 1; s >>= 1; if (lsb) s ^= TAPS.
// The same generator as the model (codesign.pulses); SEED must be non-zero in its
// low WIDTH bits (the parent derives a per-row/per-column seed and maps 0 to all-ones).
// State persists across commands; only the reset signal reloads the seed.
module tile_lfsr #(
    parameter integer WIDTH = 16,
    parameter [31:0]  TAPS  = 32'h0000_B400,
    parameter [31:0]  SEED  = 32'h0000_ACE1
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             step,
    output reg  [WIDTH-1:0] state
);
    always @(posedge clk) begin
        if (rst)
            state <= SEED[WIDTH-1:0];
        else if (step)
            state <= (state >> 1) ^ (state[0] ? TAPS[WIDTH-1:0] : {WIDTH{1'b0}});
    end
endmodule
`default_nettype wire
