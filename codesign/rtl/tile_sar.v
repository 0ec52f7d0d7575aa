`timescale 1ns/1ps
`default_nettype none
// SAR control for a bank of ADCS ADCs converting in lockstep, one decision per cycle,
// MSB first, offset-binary:  code = 0; for k = BITS-1 downto 0: trial = code | (1<<k);
// the trial goes out on `trial`; the comparator answers on `cmp` (1 iff the analog
// value >= threshold(trial)) and is sampled at the clock edge; if 1, code = trial.
// `go` high = one decision this cycle. `last` marks the cycle of the LSB decision;
// in that cycle `result` holds every ADC's final code (with the LSB decision applied),
// and the bank restarts at the MSB for the next conversion.
module tile_sar #(
    parameter integer ADCS = 4,
    parameter integer BITS = 8
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 go,
    input  wire [ADCS-1:0]      cmp,
    output wire [ADCS*BITS-1:0] trial,
    output wire [ADCS*BITS-1:0] result,
    output wire                 last
);
    localparam integer BW = (BITS > 1) ? $clog2(BITS) : 1;
    localparam integer MSB_I = BITS - 1;
    localparam [BW-1:0] MSB = MSB_I[BW-1:0];

    reg [BW-1:0]        bitpos;     // bit under decision this cycle
    reg [ADCS*BITS-1:0] code;       // decisions so far
    wire [BITS-1:0]     onehot = {{(BITS - 1){1'b0}}, 1'b1} << bitpos;

    genvar a;
    generate
        for (a = 0; a < ADCS; a = a + 1) begin : g_adc
            assign trial[a*BITS +: BITS]  = code[a*BITS +: BITS] | onehot;
            assign result[a*BITS +: BITS] = cmp[a] ? trial[a*BITS +: BITS]
                                                   : code[a*BITS +: BITS];
        end
    endgenerate

    assign last = go && (bitpos == {BW{1'b0}});

    always @(posedge clk) begin
        if (rst) begin
            bitpos <= MSB;
            code   <= {ADCS*BITS{1'b0}};
        end else if (go) begin
            if (last) begin
                bitpos <= MSB;
                code   <= {ADCS*BITS{1'b0}};
            end else begin
                bitpos <= bitpos - 1'b1;
                code   <= result;
            end
        end
    end
endmodule
`default_nettype wire
